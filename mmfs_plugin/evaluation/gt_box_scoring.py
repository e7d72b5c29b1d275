"""Class scores of every ground-truth box, for ``GTBoxAccuracy`` (the MVREC protocol).

While :class:`GTBoxScoring` is active (``GTBoxScoringHook`` activates it during validation and
testing when the evaluator has a ``GTBoxAccuracy``), one forward hook keeps the features of
``extract_feat`` and another, after each ``predict`` forward, feeds each image's ground-truth
boxes as RoIs to the RoI head and attaches their class scores to the data samples: the backbone
runs once per batch. Under test-time augmentation the wrapped detector is hooked and an image's
scores are the mean of its views' (each view's boxes resized and flipped as the view is).
"""
from types import TracebackType
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type

import torch
import torch.nn.functional as F
from mmengine.model import BaseTTAModel, is_model_wrapper
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from mmdet.models.detectors import TwoStageDetector
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox2roi, bbox_flip


class GTBoxScoring:
    """Context manager attaching ground-truth box class scores to a detector's predictions.

    Each data sample predicted inside it gets ``gt_box_labels`` (shape (n,): its evaluated
    ``instances``, neither ignored nor ``__ignore__``, packed by ``PackDetInputs``) and
    ``gt_box_scores`` (shape (n, num_classes): the box head's class scores of those boxes,
    background left out, the boxes mapped to the network input by ``scale_factor`` and
    ``flip``). Under a ``BaseTTAModel`` each view is scored and carries the mean over the
    image's views; :meth:`start_batch` separates the batches.

    Args:
        model (nn.Module): A :class:`TwoStageDetector` with a :class:`StandardRoIHead`,
            possibly inside a model wrapper (DDP) or a ``BaseTTAModel``.

    Raises:
        TypeError: If the (wrapped) model is not such a detector.
    """

    def __init__(self, model: nn.Module) -> None:
        detector = model.module if is_model_wrapper(model) else model
        self.merges_views = isinstance(detector, BaseTTAModel)
        if self.merges_views:
            detector = detector.module
        if not isinstance(detector, TwoStageDetector) or not isinstance(
                getattr(detector, 'roi_head', None), StandardRoIHead):
            raise TypeError('GTBoxScoring: ground-truth box classification needs a '
                            'TwoStageDetector with a StandardRoIHead, got '
                            f'{type(detector).__name__}')
        self.detector = detector
        self._features: Optional[Tuple[Tensor, ...]] = None
        self._handles: List[RemovableHandle] = []
        # per image of the current batch: its views' data samples and their own scores
        self._views: List[List[Tuple[DetDataSample, Tensor]]] = []

    def __enter__(self) -> 'GTBoxScoring':
        detector = self.detector
        feature_module = detector.neck if detector.with_neck else detector.backbone
        self._handles = [
            feature_module.register_forward_hook(self._keep_features),
            detector.register_forward_hook(self._attach_scores, with_kwargs=True),
        ]
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]],
                 exc: Optional[BaseException], traceback: Optional[TracebackType]) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._features = None
        self._views = []

    def start_batch(self) -> None:
        """Start a new batch: the next ``predict`` forward is its first (or only) view."""
        self._views = []

    def _keep_features(self, module: nn.Module, args: Tuple[Any, ...],
                       output: Tuple[Tensor, ...]) -> None:
        """Forward hook of the feature module: keep the multi-level features."""
        self._features = output

    def _attach_scores(self, module: nn.Module, args: Tuple[Any, ...], kwargs: Dict[str, Any],
                       output: Any) -> None:
        """Forward hook of the detector: score the GT boxes after a ``predict`` forward."""
        if kwargs.get('mode') != 'predict':
            return
        features, self._features = self._features, None
        self.score(features, output)
        if self.merges_views:
            self._merge_views(output)

    def _merge_views(self, data_samples: Sequence[DetDataSample]) -> None:
        """Give every view of each image scored so far the mean of their scores.

        Args:
            data_samples (Sequence[DetDataSample]): One view of the batch's images, scored.

        Raises:
            RuntimeError: If the view has another number of images than the batch's first.
        """
        if not self._views:
            self._views = [[] for _ in data_samples]
        if len(data_samples) != len(self._views):
            raise RuntimeError(f'GTBoxScoring: a TTA view of {len(data_samples)} images in a '
                               f'batch of {len(self._views)}; call start_batch() before each '
                               'batch')
        for views, sample in zip(self._views, data_samples):
            views.append((sample, sample.gt_box_scores))
            mean = torch.stack([scores for _, scores in views]).mean(dim=0)
            for view, _ in views:
                view.gt_box_scores = mean

    @torch.no_grad()
    def score(self, features: Tuple[Tensor, ...], data_samples: Sequence[DetDataSample]) -> None:
        """Attach ``gt_box_labels`` and ``gt_box_scores`` to each data sample.

        The box head runs on one image's boxes at a time, so an image's scores depend on its
        own features and boxes only, as its detections do, and not on how many boxes the other
        images of its batch have (a matrix product over all the boxes of a batch rounds
        differently with their number): a 2-process test scores each image as a 1-process
        test does.

        Args:
            features (tuple[Tensor]): Multi-level features of the batch (``extract_feat``).
            data_samples (Sequence[DetDataSample]): The batch's data samples, in batch order.
        """
        for index, sample in enumerate(data_samples):
            labels, boxes = _gt_boxes_in_input(sample, features[0].device)
            sample.gt_box_labels = labels
            sample.gt_box_scores = self._box_scores(
                tuple(level[index:index + 1] for level in features), boxes)

    def _box_scores(self, features: Tuple[Tensor, ...], boxes: Tensor) -> Tensor:
        """The box head's class scores (background left out) of one image's boxes.

        Args:
            features (tuple[Tensor]): Multi-level features of the image (batch of one).
            boxes (Tensor): Shape (n, 4), the boxes at the network input scale.

        Returns:
            Tensor: Shape (n, num_classes).
        """
        bbox_head = self.detector.roi_head.bbox_head
        if boxes.shape[0] == 0:
            return boxes.new_zeros((0, bbox_head.num_classes))
        cls_score = self.detector.roi_head._bbox_forward(features, bbox2roi([boxes]))['cls_score']
        scores = bbox_head.loss_cls.get_activation(cls_score) \
            if bbox_head.custom_cls_channels else F.softmax(cls_score, dim=-1)
        return scores[:, :bbox_head.num_classes]


def _gt_boxes_in_input(sample: DetDataSample, device: torch.device) -> Tuple[Tensor, Tensor]:
    """The evaluated GT labels and boxes of a data sample, boxes mapped to the network input
    (resized; flipped when the ``flip`` metainfo is set)."""
    source = sample.metainfo.get('img_path', f"img_id {sample.metainfo.get('img_id')}")
    for key in ('instances', 'scale_factor'):
        if key not in sample.metainfo:
            raise KeyError(f'{source}: {key}: missing from the data sample; the evaluation '
                           "pipeline must Resize and pack 'instances' and 'scale_factor' "
                           '(PackDetInputs meta_keys)')
    kept = [instance for instance in sample.metainfo['instances']
            if instance['bbox_label'] >= 0 and not instance.get('ignore_flag', 0)]
    labels = torch.tensor([instance['bbox_label'] for instance in kept], dtype=torch.long)
    boxes = torch.tensor([instance['bbox'] for instance in kept],
                         dtype=torch.float32, device=device).reshape(-1, 4)
    w_scale, h_scale = sample.metainfo['scale_factor']
    boxes = boxes * boxes.new_tensor([w_scale, h_scale, w_scale, h_scale])
    if sample.metainfo.get('flip'):
        boxes = bbox_flip(boxes, sample.metainfo['img_shape'],
                          sample.metainfo['flip_direction'])
    return labels, boxes
