"""cellscape.planning: where to build (issue 4, in progress).

- :mod:`cellscape.planning.selection`: site selection as a mixed-integer program (HiGHS via highspy):
  maximum coverage under a budget and minimum cost for a coverage target, over demand points grouped
  by which candidates cover them, with the LP-relaxation bound and a greedy baseline;
- :mod:`cellscape.planning.rollout`: the build order of chosen sites (most covered demand per cost
  first) and its phases under a budget per phase;
- :mod:`cellscape.planning.facilities`: data-centre / edge placement, p-median and p-center (HiGHS);
- :mod:`cellscape.planning.fiber`: fibre trench plans, Steiner tree over a street graph (networkx)
  and the ring (2-edge-connected) option.

Import the submodules directly.
"""
