"""DistilledTFA: one fine-tuned detector that the frozen base detector teaches in training, so
that it keeps the base classes without a second detector at test time.

The distillation of the box head follows Shmelkov et al., "Incremental Learning of Object
Detectors without Catastrophic Forgetting" (ICCV 2017): on proposals of the old detector, the
new detector's class scores and box deltas of the old classes are pulled to the old one's. The
RPN's follows Peng et al., "Faster ILOD" (Pattern Recognition Letters, 2020): one-sided, so
that objects the old RPN misses stay free to be learnt.
"""
import logging
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from torch import Tensor

from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from mmdet.utils import ConfigType
from .retentive_tfa import RetentiveTFA
from .tfa import TFA


@MODELS.register_module()
class DistilledTFA(RetentiveTFA):
    """:class:`TFA` taught its base classes by the frozen base detector.

    The base branch is :class:`RetentiveTFA`'s (built from ``base_detector``, loaded from the
    base checkpoint by ``FewShotSurgeryHook``, its classes mapped onto the label space by
    name), but it is a teacher, not a second detector: at test time only the fine-tuned
    detector runs, as :class:`TFA` (one detector, plain fine-tuning's cost). In training, on
    every batch, beside the detection losses:

    - ``loss_distill_cls``: on the base detector's proposals (its RPN with this model's
      ``test_cfg.rpn``, at most ``distill_rois`` per image), both box heads score the same
      RoIs; the fine-tuned head's class distribution over the retained classes and the
      background (its softmax renormalised over those columns, so the novel classes' scores
      are left free) is pulled to the base head's by the KL divergence at ``temperature``
      (times ``temperature`` squared, as Hinton et al.), averaged over the RoIs.
    - ``loss_distill_bbox``: on the same RoIs, the squared error of the fine-tuned head's box
      deltas of each retained class to the base head's, weighted by the base head's
      probability of that class, summed over classes and coordinates, averaged over the RoIs.
    - ``loss_distill_rpn``: at the anchors where the base RPN's objectness is above
      ``rpn_threshold``, the fine-tuned RPN's is pulled up to it, never down: the squared
      shortfall, averaged over those anchors (0 where the base RPN sees no object above the
      threshold in a batch; the first such batch of a run is warned about). The two RPNs must
      have the same anchors.

    Both box heads are run through their RoI head's own box forward (so a
    ``DecoupledStandardRoIHead`` scales the distillation's gradient as the detection loss's).
    No term is computed while no class is retained (before the base branch is loaded, or
    every class novel). The base branch stays in the checkpoint, as :class:`RetentiveTFA`'s,
    but takes no part in the test pass: a prototypical calibration (``pcb``) takes its
    features from the fine-tuned detector.

    Args:
        base_detector (str | dict): As :class:`RetentiveTFA`'s.
        distill_cls (float): Weight of ``loss_distill_cls``; 0 turns it off. Defaults to 1.
        distill_bbox (float): Weight of ``loss_distill_bbox``; 0 turns it off. Defaults to 1.
        distill_rpn (float): Weight of ``loss_distill_rpn``; 0 turns it off. Defaults to 1.
        temperature (float): Softmax temperature of ``loss_distill_cls``. Defaults to 1.
        distill_rois (int, optional): Proposals per image distilled on, the base RPN's best
            first. Defaults to None: every proposal of the base RPN.
        rpn_threshold (float): The base RPN's objectness above which ``loss_distill_rpn``
            holds, in [0, 1). Defaults to 0.5.
        **kwargs: The arguments of :class:`TFA`.

    Raises:
        ValueError: A negative weight, a temperature that is not positive, ``distill_rois``
            below 1, ``rpn_threshold`` outside [0, 1), ``share`` other than None (one detector
            runs at test time: nothing is shared), or RPN anchors other than the base
            detector's.
    """

    #: the base branch is a teacher: it does not predict
    base_branch_predicts = False

    def __init__(self, base_detector: Union[str, ConfigType], distill_cls: float = 1.0,
                 distill_bbox: float = 1.0, distill_rpn: float = 1.0,
                 temperature: float = 1.0, distill_rois: Optional[int] = None,
                 rpn_threshold: float = 0.5, **kwargs: Any) -> None:
        if kwargs.pop('share', None) is not None:
            raise ValueError('DistilledTFA: share: only the fine-tuned detector runs at test '
                             'time, nothing is shared (share is RetentiveTFA\'s)')
        if distill_rois is not None and distill_rois < 1:
            raise ValueError(f'DistilledTFA: distill_rois must be None (every proposal) or at '
                             f'least 1, got {distill_rois}')
        if not 0 <= rpn_threshold < 1:
            raise ValueError(f'DistilledTFA: rpn_threshold must be in [0, 1), got '
                             f'{rpn_threshold}')
        if min(distill_cls, distill_bbox, distill_rpn) < 0:
            raise ValueError('DistilledTFA: distill_cls, distill_bbox and distill_rpn must not '
                             f'be negative, got {distill_cls}, {distill_bbox}, {distill_rpn}')
        if temperature <= 0:
            raise ValueError(f'DistilledTFA: temperature must be positive, got {temperature}')
        super().__init__(base_detector=base_detector, **kwargs)
        _check_same_anchors(self.rpn_head, self.base_detector.rpn_head)
        self.weights = dict(cls=distill_cls, bbox=distill_bbox, rpn=distill_rpn)
        self.temperature = temperature
        self.distill_rois = distill_rois
        self.rpn_threshold = rpn_threshold
        self._warned_no_object = False

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> dict:
        """Faster R-CNN's losses and the distillation losses.

        Args:
            batch_inputs (Tensor): Images, shape (N, C, H, W).
            batch_data_samples (list[DetDataSample]): Their data samples with ``gt_instances``.

        Returns:
            dict[str, Tensor]: mmdet's losses, and ``loss_distill_cls``, ``loss_distill_bbox``
            and ``loss_distill_rpn`` where a class is retained.
        """
        # the features and the RPN objectness mmdet's loss computes, taken as the neck (or
        # backbone) and the RPN return them, so that the distillation runs neither again
        outputs: Dict[str, Any] = {}
        source = self.neck if self.with_neck else self.backbone
        handles = [
            source.register_forward_hook(
                lambda module, args, out: outputs.__setitem__('features', out)),
            self.rpn_head.register_forward_hook(
                lambda module, args, out: outputs.__setitem__('objectness', out[0]))]
        try:
            losses = super().loss(batch_inputs, batch_data_samples)
        finally:
            for handle in handles:
                handle.remove()
        if bool(self.retained().any()):
            losses.update(self.distillation_losses(batch_inputs, batch_data_samples,
                                                   outputs['features'],
                                                   outputs['objectness']))
        return losses

    def distillation_losses(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                            features: Sequence[Tensor], objectness: Sequence[Tensor]) -> dict:
        """The three distillation losses, weighted (see the class docstring).

        Args:
            batch_inputs (Tensor): Images, shape (N, C, H, W).
            batch_data_samples (list[DetDataSample]): Their data samples.
            features (Sequence[Tensor]): The fine-tuned detector's features of the images
                (its ``extract_feat``), one (N, C, H_l, W_l) tensor per level.
            objectness (Sequence[Tensor]): Its RPN's objectness logits of those features, one
                (N, A, H_l, W_l) tensor per level.

        Returns:
            dict[str, Tensor]: ``loss_distill_cls``, ``loss_distill_bbox``,
            ``loss_distill_rpn``, each a scalar.

        Raises:
            ValueError: If the two RPNs have different anchors at a level.
        """
        teacher = self.base_detector
        retained = (self.base_labels >= 0).nonzero().flatten()  # the teacher's classes kept
        labels = self.base_labels[retained]  # and their labels here
        with torch.no_grad():
            teacher_features = teacher.extract_feat(batch_inputs)
            # the base RPN's outputs, and its proposals from them (as its ``predict`` does)
            teacher_objectness, teacher_rpn_deltas = teacher.rpn_head(teacher_features)
            proposals = teacher.rpn_head.predict_by_feat(
                teacher_objectness, teacher_rpn_deltas, rescale=False,
                batch_img_metas=[sample.metainfo for sample in batch_data_samples])
            rois = bbox2roi([p.bboxes[:self.distill_rois] for p in proposals])
            teacher_scores, teacher_deltas = _box_head_outputs(teacher, teacher_features, rois)
        scores, deltas = _box_head_outputs(self, features, rois)
        if self.weights['rpn'] and not self._warned_no_object and not any(
                bool((level.sigmoid() > self.rpn_threshold).any())
                for level in teacher_objectness):
            self._warned_no_object = True
            print_log(f'DistilledTFA: loss_distill_rpn is 0 on this batch: the base RPN\'s '
                      f'objectness is below rpn_threshold={self.rpn_threshold} at every anchor '
                      '(warned once per run; lower rpn_threshold if it stays 0)',
                      logger='current', level=logging.WARNING)
        background = torch.tensor([scores.shape[1] - 1], device=labels.device)
        teacher_background = torch.tensor([teacher_scores.shape[1] - 1], device=labels.device)
        # the teacher's probability of each retained class, the box deltas' weights
        class_weights = teacher_scores.softmax(dim=1)[:, retained]
        losses = dict(
            loss_distill_cls=class_distillation(
                scores[:, torch.cat([labels, background])],
                teacher_scores[:, torch.cat([retained, teacher_background])],
                self.temperature),
            loss_distill_bbox=box_distillation(
                _per_class(deltas, scores.shape[1] - 1)[:, labels],
                _per_class(teacher_deltas, teacher_scores.shape[1] - 1)[:, retained],
                class_weights),
            loss_distill_rpn=objectness_distillation(objectness, teacher_objectness,
                                                     self.rpn_threshold))
        return {name: loss * self.weights[name.rsplit('_', 1)[1]]
                for name, loss in losses.items()}

    def predict_detections(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                           rescale: bool = True) -> SampleList:
        """The fine-tuned detector's detections alone (arguments and result as
        :meth:`TFA.predict`): the base branch does not run at test time."""
        return TFA.predict_detections(self, batch_inputs, batch_data_samples, rescale=rescale)


def class_distillation(scores: Tensor, teacher_scores: Tensor, temperature: float) -> Tensor:
    """KL divergence of the student's class distribution from the teacher's, at a temperature.

    Args:
        scores (Tensor): The student's logits, shape (R, C), the columns the teacher's.
        teacher_scores (Tensor): The teacher's logits, shape (R, C).
        temperature (float): Both softmaxes' temperature; the divergence is multiplied by its
            square, so that its gradients keep their size (Hinton et al., 2015).

    Returns:
        Tensor: The divergence averaged over the R rows (0 where R is 0), a scalar.
    """
    if scores.shape[0] == 0:
        return scores.sum() * 0.0
    return F.kl_div((scores / temperature).log_softmax(dim=1),
                    (teacher_scores / temperature).log_softmax(dim=1),
                    reduction='batchmean', log_target=True) * temperature ** 2


def box_distillation(deltas: Tensor, teacher_deltas: Tensor, weights: Tensor) -> Tensor:
    """Weighted squared error of the student's box deltas to the teacher's.

    Args:
        deltas (Tensor): The student's deltas, shape (R, C, 4).
        teacher_deltas (Tensor): The teacher's deltas, shape (R, C, 4).
        weights (Tensor): Per row and class, shape (R, C).

    Returns:
        Tensor: The weighted squared errors summed over classes and coordinates, averaged
        over the R rows (0 where R is 0), a scalar.
    """
    if deltas.shape[0] == 0:
        return deltas.sum() * 0.0
    return (weights * (deltas - teacher_deltas).pow(2).sum(dim=2)).sum(dim=1).mean()


def objectness_distillation(logits: Sequence[Tensor], teacher_logits: Sequence[Tensor],
                            threshold: float = 0.5) -> Tensor:
    """The student RPN's shortfall of objectness where the teacher's RPN sees an object.

    Args:
        logits (Sequence[Tensor]): The student's objectness logits per level, each
            (N, A, H, W).
        teacher_logits (Sequence[Tensor]): The teacher's, of the same shapes.
        threshold (float): The teacher's probability above which an anchor counts.
            Defaults to 0.5.

    Returns:
        Tensor: ``max(0, p_teacher - p_student)^2`` averaged over the anchors whose teacher
        probability is above ``threshold`` (0 where there is none), a scalar.

    Raises:
        ValueError: If a level's shapes differ (the RPNs have different anchors).
    """
    shortfalls = []
    for level, (ours, theirs) in enumerate(zip(logits, teacher_logits)):
        if ours.shape != theirs.shape:
            raise ValueError(f'DistilledTFA: the RPN objectness of level {level} is '
                             f'{tuple(ours.shape)}, the base detector\'s {tuple(theirs.shape)}: '
                             'the two RPNs must have the same anchors')
        teacher = theirs.sigmoid()
        seen = teacher > threshold
        shortfalls.append((teacher[seen] - ours.sigmoid()[seen]).clamp(min=0).pow(2))
    shortfall = torch.cat(shortfalls)
    if shortfall.numel() == 0:
        return sum(level.sum() for level in logits) * 0.0
    return shortfall.mean()


def _box_head_outputs(detector: torch.nn.Module, features: Sequence[Tensor],
                      rois: Tensor) -> Tuple[Tensor, Tensor]:
    """A two-stage detector's box-head logits (R, C + 1) and deltas (R, 4C or 4) of ``rois``
    (shape (R, 5)) on its ``features``, through its RoI head's box forward (mmdet's
    ``StandardRoIHead._bbox_forward``, the path of its loss and its predictions)."""
    results = detector.roi_head._bbox_forward(tuple(features), rois)
    return results['cls_score'], results['bbox_pred']


def _check_same_anchors(rpn_head: torch.nn.Module, teacher_rpn_head: torch.nn.Module) -> None:
    """Raise ValueError unless both RPNs place the same anchors (strides and base anchors of
    every level)."""
    ours, theirs = rpn_head.prior_generator, teacher_rpn_head.prior_generator
    same = (list(ours.strides) == list(theirs.strides)
            and len(ours.base_anchors) == len(theirs.base_anchors)
            and all(a.shape == b.shape and torch.allclose(a, b)
                    for a, b in zip(ours.base_anchors, theirs.base_anchors)))
    if not same:
        raise ValueError('DistilledTFA: rpn_head.anchor_generator differs from the base '
                         f'detector\'s ({_anchors(ours)} against {_anchors(theirs)}): '
                         'loss_distill_rpn compares the two RPNs anchor by anchor, so they '
                         'must have the same anchors')


def _anchors(generator: Any) -> str:
    """An anchor generator's scales, ratios and strides, for a message."""
    parts = [f'{name} {value.tolist() if isinstance(value, Tensor) else value}'
             for name in ('scales', 'ratios', 'strides')
             for value in [getattr(generator, name, None)] if value is not None]
    return ', '.join(parts)


def _per_class(deltas: Tensor, num_classes: int) -> Tensor:
    """Box deltas per class, shape (R, num_classes, 4), from a class-specific (R, 4C) or a
    class-agnostic (R, 4) regressor."""
    if deltas.shape[1] == 4:
        return deltas[:, None, :].expand(-1, num_classes, -1)
    return deltas.view(deltas.shape[0], num_classes, 4)
