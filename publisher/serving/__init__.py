"""``publisher serve``: the outputs in the browser, updated as the sources change.

One process: a :func:`~publisher.watch.watch` thread rebuilds what each save
affects (the render state kept warm), and a Starlette application served by
uvicorn shows what the build made: an index of every output with its status,
and for each output its pages as images (rasterised with pypdfium2 at the
browser's pixel ratio, kept by the PDF's sha256) and its e-mail edition.
Each finished build is announced to the open pages by Server-Sent Events; a
page then fetches itself again and swaps its content in place, keeping its
scroll position.

Only the build's outputs, as listed in ``build/manifest.json``, and the
server's own assets are served: whatever the URL says, no other file is read.
:mod:`.state` holds what is shown, :mod:`.app` shows it, :mod:`.server` runs it.
"""

from __future__ import annotations

from .server import serve
from .state import State

__all__ = ["State", "serve"]
