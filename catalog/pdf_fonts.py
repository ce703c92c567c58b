"""The Chinese TrueType font the PDFs embed (the registration certificate, the report summary).

reportlab embeds only TrueType outlines (``glyf``): a ``.ttf`` or ``.ttc``, as a subset of
the glyphs used, so that a document reads the same in any viewer. The OpenType/CFF fonts of
``fonts-noto-cjk`` cannot be used. The font is not part of this repository: it comes from a
Debian package (``fonts-wqy-microhei``, installed in the Docker image) or from the path in
``HDC_CJK_FONT`` (``settings.CJK_FONT``).

Without a usable font :func:`cjk_font` raises :class:`FontUnavailable`; each kind of document
words the message its user reads (a subclass, e.g. ``CertificateUnavailable``).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger(__name__)

# Where the Debian and Ubuntu packages (and Fedora's) put Chinese TrueType fonts, in the
# order of preference. All are TrueType outlines; index 0 of each collection is the
# simplified-Chinese face.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # fonts-arphic-uming
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",  # Fedora: wqy-microhei-fonts
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",  # Fedora: wqy-zenhei-fonts
)


class FontUnavailable(Exception):
    """No Chinese font can be embedded here.

    ``path`` is the font that was found but cannot be embedded; None when none was found.
    The message of this class is for the log; subclasses carry the user's message.
    """

    def __init__(self, message: str = "", *, path: str | None = None):
        if not message:
            message = (f"The font {path} cannot be embedded (TrueType needed)" if path
                       else "No Chinese TrueType font was found")
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class CJKFont:
    name: str  # as registered with reportlab: the fontName to draw with
    path: str


def font_paths() -> list[str]:
    """The paths looked at, in order: the configured one alone, else the known packages."""
    configured = getattr(settings, "CJK_FONT", "")
    return [configured] if configured else list(FONT_CANDIDATES)


def cjk_font() -> CJKFont:
    """The registered Chinese font, or :class:`FontUnavailable`."""
    paths = font_paths()
    found = next((path for path in paths if Path(path).is_file()), None)
    if found is None:
        logger.warning("No Chinese TrueType font for PDFs; looked for %s", paths)
        raise FontUnavailable()
    return _register(found)


@functools.cache
def _register(path: str) -> CJKFont:
    name = f"HDC-CJK-{len(pdfmetrics.getRegisteredFontNames())}"
    try:
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
    except (TTFError, OSError, ValueError) as error:
        logger.warning("Font %s cannot be used for PDFs: %s", path, error)
        raise FontUnavailable(path=path) from None
    return CJKFont(name=name, path=path)
