"""PRO / AUPRO exactly as the official MVTec AD evaluation code computes it
(pro_curve_util.compute_pro and generic_util.trapezoid, transcribed), shared
by the metrics golden generator and the evaluation of reference maps."""
from bisect import bisect

import numpy as np
from scipy.ndimage import label


def compute_pro(anomaly_maps, ground_truth_maps, fpr_dtype=np.float32):
    """The (FPR, PRO) curve, as MVTec's pro_curve_util.compute_pro."""
    structure = np.ones((3, 3), dtype=int)
    num_ok_pixels = 0
    num_gt_regions = 0
    shape = anomaly_maps.shape
    fp_changes = np.zeros(shape, dtype=np.uint32)
    pro_changes = np.zeros(shape, dtype=np.float64)
    for gt_ind, gt_map in enumerate(ground_truth_maps):
        labeled, n_components = label(gt_map, structure)
        num_gt_regions += n_components
        ok_mask = labeled == 0
        num_ok_pixels += np.sum(ok_mask)
        fp_change = np.zeros_like(gt_map, dtype=fp_changes.dtype)
        fp_change[ok_mask] = 1
        pro_change = np.zeros_like(gt_map, dtype=np.float64)
        for k in range(n_components):
            region_mask = labeled == (k + 1)
            pro_change[region_mask] = 1.0 / np.sum(region_mask)
        fp_changes[gt_ind] = fp_change
        pro_changes[gt_ind] = pro_change

    scores = np.array(anomaly_maps).ravel()
    sort_idxs = np.argsort(scores).astype(np.uint32)[::-1]
    scores_sorted = scores[sort_idxs]
    fps = np.cumsum(fp_changes.ravel()[sort_idxs]).astype(fpr_dtype)
    fprs = np.divide(fps, num_ok_pixels).astype(fpr_dtype)
    pros = np.cumsum(pro_changes.ravel()[sort_idxs]) / num_gt_regions
    keep = np.append(np.diff(scores_sorted) != 0, np.True_)
    fprs = np.clip(fprs[keep], None, 1.0)
    pros = np.clip(pros[keep], None, 1.0)
    zero, one = np.array([0.0]), np.array([1.0])
    return np.concatenate((zero, fprs, one)), np.concatenate((zero, pros, one))


def trapezoid(x, y, x_max=None):
    """MVTec's generic_util.trapezoid: the trapezoid rule up to x_max, with y
    linearly interpolated at x_max."""
    x = np.array(x, np.float64)
    y = np.array(y, np.float64)
    correction = 0.0
    if x_max is not None:
        if x_max not in x:
            ins = bisect(x, x_max)
            assert 0 < ins < len(x)
            y_interp = y[ins - 1] + ((y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) /
                                     (x[ins] - x[ins - 1]))
            correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
        mask = x <= x_max
        x = x[mask]
        y = y[mask]
    return np.sum(0.5 * (y[1:] + y[:-1]) * (x[1:] - x[:-1])) + correction


def aupro(maps, masks, max_fpr, fpr_dtype=np.float32):
    fprs, pros = compute_pro(maps, masks, fpr_dtype)
    return trapezoid(fprs, pros, x_max=max_fpr) / max_fpr
