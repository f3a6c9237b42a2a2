"""In-memory stand-ins for the suppliers' APIs, for tests, demos and chaos runs."""

from __future__ import annotations

from integrator.sandbox.suppliers.base import SandboxSupplier
from integrator.sandbox.suppliers.gelato import GelatoSandbox
from integrator.sandbox.suppliers.printful import PrintfulSandbox
from integrator.sandbox.suppliers.printify import PrintifySandbox
from integrator.sandbox.suppliers.prodigi import ProdigiSandbox

SANDBOXES: dict[str, type[SandboxSupplier]] = {
    "printful": PrintfulSandbox,
    "printify": PrintifySandbox,
    "gelato": GelatoSandbox,
    "prodigi": ProdigiSandbox,
}
