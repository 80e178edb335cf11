"""Pure pixel-level image QC (issue #12): numpy/OpenCV/scikit-image rules, no Django.

``check_image`` runs every family on one image, ``check_set`` the set-coherence rules on a
brief's images; both return ``ImageFinding`` lists. Thresholds come from
``signoff.channels.image_qc.ImageQCSpec``.
"""

from signoff.visuals.qc.findings import ImageFinding
from signoff.visuals.qc.run import check_image, check_set

__all__ = ["ImageFinding", "check_image", "check_set"]
