"""Image files checked at build time: the size as mmdet's loader (cv2, EXIF-turned) loads it,
read from the header, and a cheap completeness check of JPEG and PNG files (PIL only)."""
import functools
import os
from typing import Dict, Tuple, Union

from PIL import Image

#: The :attr:`ImageFileError.reason` of a path with no file.
IMAGE_NOT_FOUND = 'image not found'
#: The :attr:`ImageFileError.reason` of a file PIL cannot open (not an image, a bad header).
UNREADABLE_IMAGE = 'unreadable image'
#: The :attr:`ImageFileError.reason` of a JPEG or PNG whose data ends early (or is corrupt).
TRUNCATED_IMAGE = 'truncated image'
#: The EXIF orientations that turn an image by 90 degrees (width and height swap).
TRANSPOSED_ORIENTATIONS = frozenset({5, 6, 7, 8})

_EXIF_ORIENTATION = 0x0112
_NOT_FOUND = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
_JPEG_FORMATS = frozenset({'JPEG', 'MPO'})  # PIL names a multi-picture JPEG 'MPO'
_JPEG_END = b'\xff\xd9'  # the EOI marker
_PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'  # the IEND chunk: length 0, type, CRC

PathType = Union[str, 'os.PathLike[str]']


class ImageFileError(Exception):
    """An image file a dataset cannot use.

    Args:
        reason (str): A short reason to count by: :data:`IMAGE_NOT_FOUND`,
            :data:`UNREADABLE_IMAGE` or :data:`TRUNCATED_IMAGE`.
        detail (str): What exactly: ``'<path>: <error type>: <error>'``.

    Attributes:
        reason (str): As given.
        detail (str): As given.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f'{self.reason} ({self.detail})'


def _detail(path: str, err: BaseException) -> str:
    return f'{path}: {type(err).__name__}: {err}'


def _repeated_folder_hint(path: str) -> str:
    """Where a folder follows itself in ``path`` (``images/images/a.jpg``: a COCO file name
    that starts with the folder ``data_prefix`` adds too) and the path without the repeat
    names a file, a hint saying so; else ''."""
    parts = path.split('/')
    for i in range(len(parts) - 2):  # parts[i + 1] a folder, not the file name
        if parts[i] and parts[i] == parts[i + 1]:
            found = '/'.join(parts[:i] + parts[i + 1:])
            if os.path.isfile(found):
                return (f"; the folder '{parts[i]}/' is named twice, and {found} exists: the "
                        f"file name already starts with '{parts[i]}/', which data_root or "
                        "data_prefix adds too: leave it out of one of them (e.g. "
                        "data_prefix=dict(img=''))")
    return ''


@functools.lru_cache(maxsize=8)
def _names_by_case(folder: str, mtime_ns: int) -> Dict[str, str]:
    """The file names of a folder by their lower-case spelling: one listing per folder and
    modification time (``mtime_ns``, a key only), however many of its images are missing."""
    try:
        return {name.lower(): name for name in os.listdir(folder)}
    except OSError:
        return {}


def _other_case_hint(path: str) -> str:
    """Where a file of the folder is named like ``path`` but for case (``A.JPG`` for
    ``a.jpg``: Windows and macOS find it, Linux does not), a hint naming it; else ''."""
    folder, name = os.path.split(path)
    folder = folder or '.'
    try:
        found = _names_by_case(folder, os.stat(folder).st_mtime_ns).get(name.lower())
    except OSError:  # no such folder
        return ''
    if found is None or found == name:
        return ''
    return (f"; the folder holds {found!r}, which differs only in case: file names are "
            'case-sensitive here (unlike on Windows and macOS): write the name as the file '
            'is named')


def _not_found(path: str, err: BaseException) -> ImageFileError:
    """:data:`IMAGE_NOT_FOUND` for ``path``, with a hint where it holds a Windows separator,
    names a folder twice (:func:`_repeated_folder_hint`) or a file named but for case
    (:func:`_other_case_hint`)."""
    hint = ('' if '\\' not in path or '\\' in (os.sep, os.altsep) else
            "; the name holds '\\' (a Windows path separator?): on Linux and macOS only '/' "
            "separates folders, so '\\' is read as part of the file name: write the name "
            "with '/'")
    return ImageFileError(IMAGE_NOT_FOUND,
                          _detail(path, err) + hint + _repeated_folder_hint(path)
                          + _other_case_hint(path))


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation of an opened image, 1 when it has none (or a bad one)."""
    # The EXIF is read with the header (JPEG, WebP, and PNG's eXIf chunk before the pixels);
    # getexif() on a PNG without it would decode the whole image to look after the pixels.
    if 'exif' not in image.info:
        return 1
    value = image.getexif().get(_EXIF_ORIENTATION)
    return value if type(value) is int and 1 <= value <= 8 else 1


def _read_header(path: str) -> Tuple[int, int, str, int]:
    """``(height, width, format, EXIF orientation)`` as loaded (EXIF-turned); raises
    :class:`ImageFileError`."""
    try:
        with Image.open(path) as image:  # reads the header only
            width, height = image.size
            orientation = _orientation(image)
            if orientation in TRANSPOSED_ORIENTATIONS:
                width, height = height, width
            return height, width, image.format or '', orientation
    except _NOT_FOUND as err:
        raise _not_found(path, err) from None
    except Exception as err:  # PIL raises many kinds on foreign or broken bytes
        raise ImageFileError(UNREADABLE_IMAGE, _detail(path, err)) from None


def loaded_size(path: PathType) -> Tuple[int, int]:
    """The size of an image as mmdet's loader (cv2) and labelme show it, from its header: an
    EXIF orientation of 5-8 swaps width and height; a truncated file is not noticed.

    Args:
        path (str | PathLike): The image file.

    Returns:
        tuple[int, int]: ``(height, width)`` in pixels, both positive.

    Raises:
        ImageFileError: Reason :data:`IMAGE_NOT_FOUND` when there is no such file
            (``FileNotFoundError``, ``NotADirectoryError``, ``IsADirectoryError``), or
            :data:`UNREADABLE_IMAGE` when PIL cannot open it (not an image, a broken header,
            no permission, an image over PIL's decompression-bomb limit).
    """
    height, width, _, _ = _read_header(os.fspath(path))
    return height, width


def _tail(path: str, size: int) -> bytes:
    """The last ``size`` bytes of a file (fewer when it is shorter)."""
    with open(path, 'rb') as f:
        end = f.seek(0, os.SEEK_END)
        f.seek(max(0, end - size))
        return f.read()


def check_image_file(path: PathType) -> Tuple[int, int, int]:
    """Check that an image file opens and, for JPEG and PNG, is complete; return its size and
    EXIF orientation.

    A JPEG must end with ``FF D9``, a PNG with ``IEND`` (one seek); otherwise a full decode
    decides (it needs PIL's default ``LOAD_TRUNCATED_IMAGES=False``). Other formats: header only.

    Args:
        path (str | PathLike): The image file.

    Returns:
        tuple[int, int, int]: ``(height, width)`` in pixels, as the image loads (EXIF-turned),
        and its EXIF orientation tag (1 to 8; 1 without one or out of range).

    Raises:
        ImageFileError: Reason :data:`IMAGE_NOT_FOUND` or :data:`UNREADABLE_IMAGE` as
            :func:`loaded_size`; :data:`TRUNCATED_IMAGE` for a JPEG or PNG whose full decode
            fails (data ending early, or corrupt).
    """
    path = os.fspath(path)
    height, width, image_format, orientation = _read_header(path)
    if image_format in _JPEG_FORMATS:
        end = _JPEG_END
    elif image_format == 'PNG':
        end = _PNG_END
    else:
        return height, width, orientation
    try:
        if _tail(path, len(end)) == end:
            return height, width, orientation
        with Image.open(path) as image:
            image.load()  # raises OSError('image file is truncated ...') and the like
    except _NOT_FOUND as err:  # gone since the header read
        raise _not_found(path, err) from None
    except Exception as err:  # OSError, SyntaxError, EOFError, zlib.error, ...
        raise ImageFileError(TRUNCATED_IMAGE, _detail(path, err)) from None
    return height, width, orientation
