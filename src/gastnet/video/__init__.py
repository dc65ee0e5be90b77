"""Video input, 2D pose detection backends and OpenCV drawing (extra: ``pip install gastnet[video]``)."""
