"""mmfs_data.formats.image_files: sizes as mmdet loads them, truncated files caught."""
import pytest
from PIL import Image

from mmfs_data.formats.image_files import (IMAGE_NOT_FOUND, TRUNCATED_IMAGE, UNREADABLE_IMAGE,
                                             ImageFileError, check_image_file, loaded_size)


def _image(width=60, height=40):
    """A small RGB image with content (so a JPEG of it has entropy-coded data to cut)."""
    image = Image.new('RGB', (width, height))
    image.putdata([((x * 7) % 256, (y * 11) % 256, ((x + y) * 5) % 256)
                   for y in range(height) for x in range(width)])
    return image


def _save(tmp_path, name, orientation=None, size=(60, 40), **kwargs):
    path = tmp_path / name
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs['exif'] = exif
    _image(*size).save(path, **kwargs)
    return path


def _truncate(path, keep=0.5):
    raw = path.read_bytes()
    assert raw.find(b'\xff\xda' if path.suffix == '.jpg' else b'IDAT') < len(raw) * keep
    path.write_bytes(raw[:int(len(raw) * keep)])
    return path


@pytest.mark.parametrize('name', ['plain.png', 'plain.jpg', 'plain.bmp', 'plain.tif'])
def test_plain_image_size_is_height_width(tmp_path, name):
    path = _save(tmp_path, name)
    assert loaded_size(path) == (40, 60)
    assert loaded_size(str(path)) == (40, 60)
    assert check_image_file(path) == (40, 60, 1)


@pytest.mark.parametrize('orientation, size', [(1, (40, 60)), (3, (40, 60)), (5, (60, 40)),
                                               (6, (60, 40)), (7, (60, 40)), (8, (60, 40))])
def test_exif_orientation_turns_the_size_as_cv2_loads_it(tmp_path, orientation, size):
    cv2 = pytest.importorskip('cv2')
    path = _save(tmp_path, f'o{orientation}.jpg', orientation=orientation)
    assert loaded_size(path) == size
    assert check_image_file(path) == size + (orientation,)
    assert cv2.imread(str(path), cv2.IMREAD_COLOR).shape[:2] == size


def test_orientation_6_jpeg_loads_60_high_40_wide(tmp_path):
    cv2 = pytest.importorskip('cv2')
    path = _save(tmp_path, 'turned.jpg', orientation=6)  # stored 60 wide x 40 high
    with Image.open(path) as image:
        assert image.size == (60, 40)
    assert loaded_size(path) == (60, 40)  # height 60, width 40
    assert cv2.imread(str(path)).shape == (60, 40, 3)


def test_truncated_jpeg_is_caught(tmp_path):
    # Large enough that half its bytes keep the whole header (a JPEG's tables are ~600 bytes).
    path = _truncate(_save(tmp_path, 'half.jpg', size=(240, 160)))
    assert loaded_size(path) == (160, 240)  # the header is still there
    with pytest.raises(ImageFileError) as info:
        check_image_file(path)
    assert info.value.reason == TRUNCATED_IMAGE
    assert str(path) in info.value.detail
    assert str(info.value) == f'{TRUNCATED_IMAGE} ({info.value.detail})'
    assert str(path) in str(info.value)


def test_jpeg_with_bytes_after_eoi_passes(tmp_path):
    path = _save(tmp_path, 'trailing.jpg')
    path.write_bytes(path.read_bytes() + bytes(range(100)))
    assert check_image_file(path) == (40, 60, 1)


def test_truncated_png_is_caught(tmp_path):
    path = _truncate(_save(tmp_path, 'half.png', size=(240, 160)))
    assert loaded_size(path) == (160, 240)
    with pytest.raises(ImageFileError) as info:
        check_image_file(path)
    assert info.value.reason == TRUNCATED_IMAGE
    assert str(path) in str(info.value)


def test_png_without_iend_but_complete_pixels_passes(tmp_path):
    path = _save(tmp_path, 'noiend.png')
    raw = path.read_bytes()
    assert raw.endswith(b'IEND\xaeB`\x82')
    path.write_bytes(raw[:-12])  # PIL decodes the pixels without the IEND chunk
    assert check_image_file(path) == (40, 60, 1)


@pytest.mark.parametrize('where', ['missing.jpg', 'folder', 'file.jpg/inside.jpg'])
def test_missing_path_is_image_not_found(tmp_path, where):
    (tmp_path / 'folder').mkdir()
    (tmp_path / 'file.jpg').write_bytes(b'x')
    path = tmp_path / where
    for call in (loaded_size, check_image_file):
        with pytest.raises(ImageFileError) as info:
            call(path)
        assert info.value.reason == IMAGE_NOT_FOUND
        assert str(path) in str(info.value)


def test_text_named_jpg_is_unreadable(tmp_path):
    path = tmp_path / 'notes.jpg'
    path.write_text('not an image\n')
    for call in (loaded_size, check_image_file):
        with pytest.raises(ImageFileError) as info:
            call(path)
        assert info.value.reason == UNREADABLE_IMAGE
        assert str(path) in str(info.value)
        assert 'UnidentifiedImageError' in info.value.detail


@pytest.mark.parametrize('name', ['complete.jpg', 'complete.png'])
def test_complete_file_is_not_decoded(tmp_path, monkeypatch, name):
    from PIL import ImageFile

    path = _save(tmp_path, name, size=(240, 160))

    def no_decode(self):
        raise AssertionError('decoded a file whose tail shows it complete')

    monkeypatch.setattr(ImageFile.ImageFile, 'load', no_decode)
    assert check_image_file(path) == (160, 240, 1)
