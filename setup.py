"""Installation of mmfs_plugin, the few-shot detection plugin for MMDetection 3.x."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r"__version__ = '([^']+)'",
                    (HERE / 'mmfs_plugin' / 'version.py').read_text()).group(1)

setup(
    name='mmfs_plugin',
    version=VERSION,
    description='Few-shot object detection on labelme data (MVTec-FS) for MMDetection 3.x',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8')
    if (HERE / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(include=['mmfs_plugin', 'mmfs_plugin.*', 'mmfs_data', 'mmfs_data.*']),
    package_data={'mmfs_data': ['fewshot/*.json', 'formats/*.csv']},
    install_requires=[
        'torch>=2.0',
        'mmengine==0.10.7',
        'mmcv>=2.0.0rc4,<2.2.0',
        'mmdet==3.3.0',
        'pycocotools',  # the fallback COCO evaluation backend
        'faster-coco-eval>=1.6',  # the default COCO evaluation backend (same numbers, faster)
        'shapely',  # labelme regions' areas (formats/labelme_shapes.py)
        'numpy',
        'packaging',  # the version checks of mmfs_plugin.compat
        'matplotlib',
        'tqdm',
        'setuptools<81',
    ],
    extras_require={'tests': ['pytest', 'hypothesis']},
    zip_safe=False,
)
