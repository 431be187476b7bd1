"""sniff and check_readable: the type from the bytes, and that the file opens."""

from __future__ import annotations

import io

import pytest

from portal.bookkeeping.formats import FileType, FormatError, check_readable, sniff
from portal.bookkeeping.formats.files import MAX_IMAGE_PIXELS
from portal.messages import Message
from tests.bookkeeping import samples


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (samples.pdf_receipt, FileType.PDF),
        (samples.jpeg_receipt, FileType.JPEG),
        (samples.png_receipt, FileType.PNG),
        (samples.heic_receipt, FileType.HEIC),
        (samples.ubl_invoice, FileType.XML),
        (samples.camt053_statement, FileType.XML),
    ],
)
def test_sniff_and_read_every_supported_type(make, expected):
    data = make()
    assert sniff(data) == expected
    check_readable(data, expected)  # does not raise


def test_sniff_ignores_what_a_name_would_say():
    # A PNG is a PNG whatever it is called; there is no name to pass, only bytes.
    assert sniff(samples.png_receipt()) == FileType.PNG
    assert sniff(b"\xef\xbb\xbf  \n<?xml version='1.0'?><a/>") == FileType.XML
    assert sniff("<?xml version='1.0' encoding='UTF-16'?><a/>".encode("utf-16")) == FileType.XML
    assert sniff(b"\n\n%PDF-1.7\n" + samples.pdf_receipt()[9:]) == FileType.PDF


def test_empty_file():
    with pytest.raises(FormatError) as error:
        sniff(b"")
    assert isinstance(error.value.message, Message)
    assert error.value.message.template == "The file is empty."


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 a zip or docx",
        b"GIF89a\x01\x00\x01\x00",
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1",  # AVIF is not HEIC
        b"just some text",
        b":20:STATEMENT\n:25:NL20INGB0001234567\n",
    ],
)
def test_unknown_types_are_refused(data):
    with pytest.raises(FormatError, match="not supported"):
        sniff(data)


def test_heif_brands():
    heic = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + bytes(16)
    avif = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif" + bytes(16)
    assert sniff(heic) == FileType.HEIC
    with pytest.raises(FormatError):
        sniff(avif)


def test_corrupt_pdf_is_damaged():
    data = samples.corrupt_pdf()
    assert sniff(data) == FileType.PDF
    with pytest.raises(FormatError) as error:
        check_readable(data, FileType.PDF)
    assert error.value.message.template == "This PDF is damaged and cannot be read."


def test_truncated_pdf_is_damaged():
    data = samples.pdf_receipt()[:60]
    with pytest.raises(FormatError, match="damaged"):
        check_readable(data, FileType.PDF)


def test_password_protected_pdf_is_refused():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(samples.pdf_receipt())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(FormatError, match="password"):
        check_readable(out.getvalue(), FileType.PDF)


@pytest.mark.parametrize(
    ("make", "file_type"),
    [
        (samples.png_receipt, FileType.PNG),
        (samples.jpeg_receipt, FileType.JPEG),
        (samples.heic_receipt, FileType.HEIC),
    ],
)
def test_truncated_images_are_damaged(make, file_type):
    data = make()
    with pytest.raises(FormatError) as error:
        check_readable(data[: len(data) // 2], file_type)
    assert error.value.message.template == "This image is damaged and cannot be read."


def test_image_of_another_type_than_sniffed_is_damaged():
    with pytest.raises(FormatError, match="damaged"):
        check_readable(samples.png_receipt(), FileType.JPEG)


def test_too_many_pixels():
    data = samples.png_bomb()
    assert len(data) < 100_000  # small on disk, 400 megapixels once decoded
    assert sniff(data) == FileType.PNG
    with pytest.raises(FormatError) as error:
        check_readable(data, FileType.PNG)
    assert "too many pixels" in str(error.value)
    assert error.value.message.params["limit"] == MAX_IMAGE_PIXELS // 1_000_000


def test_just_over_the_limit_is_refused_before_pillows_own_error():
    # Above our limit but below twice it (where Pillow would raise by itself).
    data = samples.png_bomb(width=9_000, height=8_000)
    with pytest.raises(FormatError, match="too many pixels"):
        check_readable(data, FileType.PNG)


def test_xml_passes_check_readable():
    check_readable(b"<whatever/>", FileType.XML)  # the XML parsers check XML


def test_heif_opener_is_registered_lazily_not_at_import():
    import subprocess
    import sys

    code = (
        "from PIL import Image\n"
        "import portal.bookkeeping.formats as formats\n"
        "from tests.bookkeeping import samples\n"
        "assert 'HEIF' not in Image.OPEN, 'registered at import'\n"
        "data = samples.heic_receipt()\n"
        "formats.check_readable(data, formats.FileType.HEIC)\n"
        "assert 'HEIF' in Image.OPEN\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
