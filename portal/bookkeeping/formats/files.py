"""What an uploaded file is (from its bytes, never its name or the browser's word) and whether
it opens: a PDF with pypdf, an image with Pillow (HEIC through pillow-heif)."""

from __future__ import annotations

import io
import threading
import warnings

from PIL import Image, UnidentifiedImageError

from portal.bookkeeping.formats import FileType, FormatError
from portal.messages import N_

#: The most pixels an image may have (a 64-megapixel photo is still fine): a small file that
#: unpacks into gigabytes of pixels (a decompression bomb) is refused before it is decoded.
MAX_IMAGE_PIXELS = 64_000_000

# ISO base media file format brands of HEIF images (HEIC proper, and HEIF with HEVC inside).
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_HEIF_GENERIC_BRANDS = {b"mif1", b"msf1"}

_heif_lock = threading.Lock()
_heif_registered = False


def sniff(data: bytes) -> FileType:
    """The type of ``data`` by its magic bytes; ``FormatError`` when empty or not supported."""
    if not data:
        raise FormatError(N_("The file is empty."))
    head = bytes(data[:1024])
    if head.startswith(b"%PDF-") or b"%PDF-" in head:  # some writers put junk before the header
        return FileType.PDF
    if head.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType.PNG
    if _is_heif(head):
        return FileType.HEIC
    if _is_xml(head):
        return FileType.XML
    raise FormatError(
        N_("This file type is not supported: send a PDF, JPEG, PNG, HEIC or XML file.")
    )


def _is_heif(head: bytes) -> bool:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    if major in _HEIF_BRANDS:
        return True
    compatible = {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    return major in _HEIF_GENERIC_BRANDS and bool(compatible & _HEIF_BRANDS)


def _is_xml(head: bytes) -> bool:
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            head = head[len(bom) :].decode(encoding, errors="ignore").encode("utf-8")
            break
    else:
        if head.startswith((b"<\x00", b"\x00<")):  # UTF-16 without a byte order mark
            head = head.replace(b"\x00", b"")
    head = head.lstrip(b" \t\r\n")
    return head.startswith(b"<?xml") or (
        head.startswith(b"<") and len(head) > 1 and (head[1:2].isalpha() or head[1:2] == b"!")
    )


def check_readable(data: bytes, file_type: FileType) -> None:
    """Raise ``FormatError`` unless ``data`` opens as ``file_type``. XML is checked by the
    parser that reads it (``parse_ubl``), so it passes here."""
    if file_type == FileType.PDF:
        _check_pdf(data)
    elif file_type in (FileType.JPEG, FileType.PNG, FileType.HEIC):
        _check_image(data, file_type)
    elif file_type != FileType.XML:  # pragma: no cover - the enum has no other members
        raise ValueError(file_type)


def _check_pdf(data: bytes) -> None:
    from pypdf import PdfReader

    damaged = N_("This PDF is damaged and cannot be read.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                try:
                    opened = reader.decrypt("")
                except Exception:  # noqa: BLE001 - an unsupported cipher is a password too
                    opened = 0
                if not opened:
                    raise FormatError(
                        N_("This PDF is protected with a password; send it without one.")
                    )
            pages = len(reader.pages)
            if pages:
                _ = reader.pages[0].mediabox
    except FormatError:
        raise
    except Exception as error:  # noqa: BLE001
        # pypdf raises many kinds of errors (PdfReadError, ValueError, KeyError, ...) on junk.
        raise FormatError(damaged) from error
    if not pages:
        raise FormatError(damaged)


def _register_heif() -> None:
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_registered = True


def _check_image(data: bytes, file_type: FileType) -> None:
    if file_type == FileType.HEIC:
        _register_heif()
    # Pillow's own guard (warning above the limit, error at twice it) for whoever opens the
    # image after us; we refuse anything above the limit ourselves, before decoding.
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    formats = {FileType.JPEG: ["JPEG"], FileType.PNG: ["PNG"], FileType.HEIC: ["HEIF"]}
    damaged = N_("This image is damaged and cannot be read.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=formats[file_type]) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise _too_large(width, height)
                image.verify()
            # verify() leaves the image unusable and does not decode all of a JPEG: load it too.
            with Image.open(io.BytesIO(data), formats=formats[file_type]) as image:
                image.load()
    except FormatError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise FormatError(
            N_(
                "This image has too many pixels (at most %(limit)s million).",
                limit=MAX_IMAGE_PIXELS // 1_000_000,
            )
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise FormatError(damaged) from error
    except Exception as error:  # noqa: BLE001 - decoders raise all sorts on junk
        raise FormatError(damaged) from error


def _too_large(width: int, height: int) -> FormatError:
    return FormatError(
        N_(
            "This image has too many pixels (%(width)s × %(height)s; at most %(limit)s million).",
            width=width,
            height=height,
            limit=MAX_IMAGE_PIXELS // 1_000_000,
        )
    )
