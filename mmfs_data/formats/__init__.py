"""Parsing per annotation format, pure (no torch, no mmdet): labelme files and the MVTec-FS
layout and class table; the checks of COCO JSON and Pascal VOC XML that mmdet's parsers lack
(mmdet's datasets still make their entries); image files; the report of what was skipped."""
