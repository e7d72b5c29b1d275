"""Parsing per annotation format, pure (no torch, no mmdet): labelme files and the MVTec-FS
layout and class table. COCO JSON and Pascal VOC XML are parsed by mmdet's own datasets."""
