"""Pictures of data and models: image grids and time-series panels as PNG files."""

from aelab.visualization.grids import image_grid, save_png, series_panel

__all__ = ["image_grid", "save_png", "series_panel"]
