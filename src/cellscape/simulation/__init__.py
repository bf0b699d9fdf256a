"""System-level simulation: user drops and the TR 38.901 7.8.1 large-scale calibration."""

from cellscape.simulation.calibration import CalibrationResult, PercentileRow, run_calibration

__all__ = ["CalibrationResult", "PercentileRow", "run_calibration"]
