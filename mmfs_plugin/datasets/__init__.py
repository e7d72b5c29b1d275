"""Datasets, k-shot selection and samplers for few-shot detection on labelme data."""
