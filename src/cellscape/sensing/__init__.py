"""Integrated sensing and communication (ISAC): the physics core.

- :mod:`cellscape.sensing.radar`: radar equation (monostatic, bistatic and the two-segment target
  path of TR 38.901 7.9.4.1), OFDM processing gain, sensing SNR, range/velocity resolution and
  unambiguous range/velocity of an NR numerology;
- :mod:`cellscape.sensing.detection`: probability of detection (Swerling 0 and 1, one look), the
  SNR a Pd/Pfa pair requires, Albersheim's approximation;
- :mod:`cellscape.sensing.rcs`: the RCS model of TR 38.901 V19 7.9.2.1 (RCS models 1 and 2,
  Tables 7.9.2.1-1 to -7) and its log-normal random component.

Monostatic and bistatic TRP-TRP sensing maps are built from these by cellscape.pipeline.sense
(``cellscape sense``, the ``sensing:`` scenario block: cellscape.scenario.sensing), with the per-tile
reductions of :mod:`cellscape.sensing._reduce` (numba, numpy twin); UAV targets above the UT range
take the TR 36.777 aerial models in the engine's tables. The Rel-19 large-scale calibration with a
UAV target (``cellscape calibrate --isac``) is :mod:`cellscape.sensing.calibration`. TRP-UE pairs in
the maps are not built yet (docs/sensing.md).
"""
