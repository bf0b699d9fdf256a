"""The result of a coverage run: per-pixel maps on a :class:`~cellscape.geo.grid.RasterGrid`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cellscape.geo.grid import RasterGrid


@dataclass(frozen=True)
class SectorTable:
    """Per-sector facts for reports and plots, in the grid's CRS. Arrays of shape (n_sectors,)."""

    sector_id: tuple[str, ...]
    site_id: tuple[str, ...]
    x_m: np.ndarray
    y_m: np.ndarray
    azimuth_deg: np.ndarray
    height_m: np.ndarray
    tx_power_per_re_dbm: np.ndarray | None = None   # power per RE plus the receiver's antenna gain, so
    # that coupling loss = tx_power_per_re_dbm - RSRP (both antenna gains in it)


@dataclass(frozen=True)
class CoverageResult:
    """Best-server maps, shape (n_rows, n_cols) each, north-up on ``grid``.

    ``best_sector`` indexes ``sectors`` (-1 where no sector is usable). ``indoor`` marks pixels
    inside a building (O2I loss applied). ``meta`` records the models and policies used
    (LOS mode, shadow fading, out-of-range policy, counts of clipped links) for the KPI file.
    """

    grid: RasterGrid
    rsrp_dbm: np.ndarray          # float32, best-server RSRP per resource element [dBm]
    sinr_db: np.ndarray           # float32, downlink SINR of the best server [dB]
    best_sector: np.ndarray       # int32, index into sectors, -1 = none
    throughput_bps: np.ndarray    # float32, downlink user throughput at full allocation [bit/s]
    indoor: np.ndarray            # bool
    sectors: SectorTable
    meta: dict = field(default_factory=dict)
    los_statistics: dict | None = None   # geometric runs: LOS link counts by distance (engine.LosHistogram)

    def as_dataset(self):
        """An :class:`xarray.Dataset` view with named dims (y, x), coordinates in metres and
        units in attributes."""
        import xarray as xr

        x = self.grid.x_centers_m()
        y = self.grid.y_centers_m()
        data = {
            "rsrp_dbm": (("y", "x"), self.rsrp_dbm, {"units": "dBm"}),
            "sinr_db": (("y", "x"), self.sinr_db, {"units": "dB"}),
            "best_sector": (("y", "x"), self.best_sector, {"units": "1"}),
            "throughput_bps": (("y", "x"), self.throughput_bps, {"units": "bit/s"}),
            "indoor": (("y", "x"), self.indoor, {"units": "1"}),
        }
        return xr.Dataset(data, coords={"x": ("x", x, {"units": "m"}), "y": ("y", y, {"units": "m"})},
                          attrs={"crs": self.grid.crs, **{k: str(v) for k, v in self.meta.items()}})
