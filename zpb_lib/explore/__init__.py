"""Interactive exploration in JupyterLab: an ipywidgets explorer over one database, with key
figures, a county map, a sortable table of institutions, a drill-down for one institution and
what-if scoring (``notebooks/explore.ipynb`` opens it).

The logic lives here, not in the notebook, so that it is tested without a browser:
``Explorer(db, edition)`` holds the widgets; set their values and press their buttons in Python.
"""
from zpb_lib.explore.app import Explorer
from zpb_lib.domain.edition_data import EditionData, MemoryCube, Selection
from zpb_lib.explore.whatif import Outcome, Scenario, WhatIf

__all__ = ["Explorer", "EditionData", "MemoryCube", "Selection", "Outcome", "Scenario", "WhatIf"]

