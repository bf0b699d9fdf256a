"""Propagation models: free space (:mod:`.free_space`), TR 38.901 Section 7.4 path loss, LOS probability
and shadow-fading spread (:mod:`.tr38901`), O2I penetration loss (:mod:`.o2i`) and spatially correlated
random fields (:mod:`.shadowing`). Import the module you need; nothing is re-exported here."""
