"""DeFRCN's prototypical calibration block (PCB; Qiao et al., ICCV 2021): at test time, each
detection's score is fused with the cosine similarity of its RoI feature to the prototype of its
class, the mean feature of that class's boxes in the k-shot set.

``score <- alpha * score + (1 - alpha) * cos(feature, prototype[label])`` for the detections of
the calibrated classes (DeFRCN: the novel ones) whose score lies in ``(lower, upper]`` (DeFRCN:
0.05 and 1.0, alpha 0.5). DeFRCN takes the features from a network the fine-tuning did not
adapt, an ImageNet ResNet-101 (its ``layer4``, RoIAlign to 1x1, then its ``fc``:
:class:`ClassifierRoIFeatures`); where no ImageNet classifier is at hand,
:class:`DetectorRoIFeatures` takes them from the RoI extractor of the recipe's frozen base
branch, or of the detector itself (then they are not independent of its scores). The
prototypes are built before each evaluation by :class:`~mmfs_plugin.engine.PrototypeHook`.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.ops import roi_align
from torch import Tensor, nn

from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi

#: ImageNet's mean and std of RGB values in [0, 1] (torchvision's classifiers).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CALIBRATED = ('novel', 'base', 'all')


@MODELS.register_module()
class DetectorRoIFeatures:
    """RoI features of a detector: its ``extract_feat`` and its RoI head's
    ``bbox_roi_extractor``, averaged over the RoI's cells: shape (n, C).

    Where the model predicts with a loaded base branch (:class:`~mmfs_plugin.models.RetentiveTFA`
    retaining a class; not :class:`~mmfs_plugin.models.DistilledTFA`, whose base branch only
    teaches in training) its features come from there: the base detector, which fine-tuning did
    not adapt. Otherwise (DeFRCN alone, or no class retained) from the model itself: then they
    are the fine-tuned features its classifier scores, not an independent network as DeFRCN's
    ImageNet classifier is.

    Args:
        use_base_detector (bool): Use the loaded base branch where there is one. Defaults to
            True.
    """

    def __init__(self, use_base_detector: bool = True) -> None:
        self.use_base_detector = use_base_detector

    def __call__(self, detector: nn.Module, batch_inputs: Tensor,
                 boxes: Sequence[Tensor]) -> Tensor:
        """Features of ``boxes[i]`` (shape (n_i, 4), x1y1x2y2 in input pixels) on image i."""
        if (self.use_base_detector and getattr(detector, 'base_branch_predicts', False)
                and bool(detector.retained().any())):
            detector = detector.base_detector
        features = detector.extract_feat(batch_inputs)
        extractor = detector.roi_head.bbox_roi_extractor
        rois = bbox2roi(list(boxes))
        return extractor(features[:extractor.num_inputs], rois).mean(dim=(2, 3))


@MODELS.register_module()
class ClassifierRoIFeatures:
    """RoI features of an image classifier, as DeFRCN's PCB takes them from an ImageNet
    ResNet-101: the images brought back to RGB in [0, 1] and normalised with ImageNet's
    statistics, the output of the classifier's submodule ``feature_node`` (a feature map of
    stride ``stride``), RoIAlign of each box to 1 x 1 (mmcv's, aligned), then the submodule
    ``head`` (a ResNet's ``fc``: 1000-d logits) or, with ``head=None``, the pooled feature.

    The classifier is held outside the detector's ``state_dict`` (checkpoints do not carry it)
    and gets no gradient. It sees the detector's input (resized and padded by the test
    pipeline), where DeFRCN feeds its classifier the image at its original resolution.

    Args:
        classifier (str | nn.Module): A torchvision classification model's name, e.g.
            ``'resnet101'`` (needs torchvision; its weights from ``checkpoint``), or the
            classifier itself.
        checkpoint (str, optional): The weights of a named classifier (a state dict file,
            e.g. torchvision's ``resnet101-63fe2227.pth``); nothing is downloaded.
        feature_node (str): The submodule giving the feature map. Defaults to ``'layer4'``.
        stride (int): That map's stride in input pixels. Defaults to 32.
        head (str, optional): The submodule applied to the pooled features. Defaults to
            ``'fc'``.

    Raises:
        ValueError: A named classifier without ``checkpoint``.
        ImportError: A named classifier without torchvision installed.
    """

    def __init__(self, classifier: Union[str, nn.Module], checkpoint: Optional[str] = None,
                 feature_node: str = 'layer4', stride: int = 32,
                 head: Optional[str] = 'fc') -> None:
        if isinstance(classifier, str):
            if not checkpoint:
                raise ValueError(f'ClassifierRoIFeatures: checkpoint: the weights of '
                                 f'{classifier!r} are needed (nothing is downloaded)')
            import torchvision  # only here: the plugin runs without torchvision
            classifier = torchvision.models.get_model(classifier, weights=None)
            classifier.load_state_dict(torch.load(checkpoint, map_location='cpu',
                                                  weights_only=True))
        self._classifier = classifier.eval().requires_grad_(False)
        self._feature_node = classifier.get_submodule(feature_node)
        self._head = classifier.get_submodule(head) if head else nn.Identity()
        self.stride = stride

    def __call__(self, detector: nn.Module, batch_inputs: Tensor,
                 boxes: Sequence[Tensor]) -> Tensor:
        """Features of ``boxes[i]`` (shape (n_i, 4), x1y1x2y2 in input pixels) on image i."""
        self._classifier.to(batch_inputs.device)
        captured = []
        handle = self._feature_node.register_forward_hook(
            lambda module, args, output: captured.append(output))
        try:
            self._classifier(_imagenet_normalised(detector.data_preprocessor, batch_inputs))
        finally:
            handle.remove()
        pooled = roi_align(captured[0], bbox2roi(list(boxes)), (1, 1), 1.0 / self.stride, 0,
                           'avg', True)
        return self._head(pooled.flatten(1))


def _imagenet_normalised(data_preprocessor: nn.Module, batch_inputs: Tensor) -> Tensor:
    """The detector's inputs (normalised by its data preprocessor, RGB or BGR) as RGB in
    [0, 1] normalised with ImageNet's statistics."""
    images = batch_inputs
    if getattr(data_preprocessor, '_enable_normalize', False):
        images = images * data_preprocessor.std + data_preprocessor.mean
    if images.shape[1] == 3 and not getattr(data_preprocessor, '_channel_conversion', False):
        images = images.flip(1)  # mmcv loads BGR
    mean = images.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = images.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (images / 255.0 - mean) / std


@MODELS.register_module()
class PrototypicalCalibration(nn.Module):
    """DeFRCN's prototypical calibration block (see the module doc).

    Args:
        extractor (dict): The RoI features: ``dict(type='DetectorRoIFeatures')`` (default) or
            ``dict(type='ClassifierRoIFeatures', classifier='resnet101', checkpoint=...)``.
        alpha (float): Weight of the detector's score. Defaults to 0.5.
        score_range (tuple[float, float]): ``(lower, upper)``: the scores in ``(lower, upper]``
            are calibrated. Defaults to (0.05, 1.0).
        calibrated (str): Which classes: ``'novel'`` (DeFRCN), ``'base'`` or ``'all'``.
            Defaults to ``'novel'``.

    Raises:
        ValueError: ``alpha`` outside [0, 1] or an unknown ``calibrated``.
    """

    def __init__(self, extractor: Optional[dict] = None, alpha: float = 0.5,
                 score_range: Tuple[float, float] = (0.05, 1.0),
                 calibrated: str = 'novel') -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'PrototypicalCalibration: alpha: expected a number in [0, 1], '
                             f'got {alpha!r}')
        if calibrated not in CALIBRATED:
            raise ValueError(f'PrototypicalCalibration: calibrated: expected one of '
                             f'{CALIBRATED}, got {calibrated!r}')
        self.extractor = MODELS.build(extractor or dict(type='DetectorRoIFeatures'))
        self.alpha = alpha
        self.lower, self.upper = score_range
        self.calibrated = calibrated
        # built by set_prototypes before every evaluation; not saved in checkpoints
        self.register_buffer('prototypes', torch.zeros(0, 0), persistent=False)
        self.register_buffer('has_prototype', torch.zeros(0, dtype=torch.bool),
                             persistent=False)

    def features(self, detector: nn.Module, batch_inputs: Tensor,
                 boxes: Sequence[Tensor]) -> Tensor:
        """RoI features, shape (sum of n_i, D), of ``boxes[i]`` (shape (n_i, 4), input pixels)
        on image i of ``batch_inputs`` (shape (N, C, H, W))."""
        return self.extractor(detector, batch_inputs, boxes)

    def set_prototypes(self, features: Tensor, labels: Tensor, classes: Sequence[str],
                       novel_classes: Sequence[str] = ()) -> List[str]:
        """Set the prototypes: per calibrated class, the mean of its features.

        Args:
            features (Tensor): Features of the k-shot boxes, shape (n, D).
            labels (Tensor): Their labels, shape (n,).
            classes (Sequence[str]): The label space.
            novel_classes (Sequence[str]): Its novel classes.

        Returns:
            list[str]: The classes that got a prototype.
        """
        novel = set(novel_classes)
        wanted = [self.calibrated == 'all' or (name in novel) == (self.calibrated == 'novel')
                  for name in classes]
        prototypes = features.new_zeros(len(classes), features.shape[1])
        has_prototype = torch.zeros(len(classes), dtype=torch.bool, device=features.device)
        for label, name in enumerate(classes):
            mine = labels == label
            if wanted[label] and bool(mine.any()):
                prototypes[label] = features[mine].mean(dim=0)
                has_prototype[label] = True
        self.prototypes, self.has_prototype = prototypes, has_prototype
        return [name for name, has in zip(classes, has_prototype.tolist()) if has]

    def calibrate(self, detector: nn.Module, batch_inputs: Tensor, samples: SampleList,
                  rescale: bool) -> SampleList:
        """Fuse the scores of the calibrated classes' detections with their cosine similarity
        to the prototypes; the detections are sorted by the new score.

        Args:
            detector (nn.Module): The detector that predicted ``samples``.
            batch_inputs (Tensor): Its inputs, shape (N, C, H, W).
            samples (list[DetDataSample]): Its predictions (``pred_instances``).
            rescale (bool): Whether the boxes are in original image pixels (then mapped to
                input pixels with each sample's ``scale_factor``).

        Returns:
            list[DetDataSample]: ``samples``, calibrated in place.

        Raises:
            RuntimeError: No prototypes were set (no ``PrototypeHook`` ran).
        """
        if self.has_prototype.numel() == 0:
            raise RuntimeError('PrototypicalCalibration: no prototypes: they are built from the '
                               "k-shot set by custom_hooks' PrototypeHook before evaluation "
                               '(configs/_base_/fewshot_runtime.py has it)')
        if not any(len(sample.pred_instances) for sample in samples):
            return samples  # nothing to calibrate (mmcv's CUDA RoIAlign refuses zero boxes)
        boxes = []
        for sample in samples:
            bboxes = sample.pred_instances.bboxes
            if rescale:
                scale = bboxes.new_tensor(sample.metainfo['scale_factor']).repeat(2)
                bboxes = bboxes * scale
            boxes.append(bboxes)
        features = self.features(detector, batch_inputs, boxes).split(
            [len(b) for b in boxes])
        for sample, feature in zip(samples, features):
            pred = sample.pred_instances
            scores, labels = pred.scores, pred.labels
            chosen = self.has_prototype[labels] & (scores > self.lower) & (scores <= self.upper)
            if bool(chosen.any()):
                cosine = F.cosine_similarity(feature[chosen], self.prototypes[labels[chosen]],
                                             dim=1)
                scores = scores.clone()
                scores[chosen] = self.alpha * scores[chosen] + (1 - self.alpha) * cosine
                pred.scores = scores
                sample.pred_instances = pred[scores.argsort(descending=True)]
        return samples

