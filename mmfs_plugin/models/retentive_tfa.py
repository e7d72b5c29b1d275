"""RetentiveTFA: a fine-tuned detector beside the frozen base detector, whose base-class
detections are kept (after Retentive R-CNN, Fan et al., "Generalized Few-shot Object Detection
without Forgetting", CVPR 2021)."""
import copy
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.roi_heads import StandardRoIHead
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi
from mmdet.structures import SampleList
from mmdet.utils import ConfigType
from .tfa import TFA

# what each ``share`` runs once for both branches (the neck where the detector has one)
SHARED = {None: [], 'backbone': ['backbone', 'neck'],
          'proposals': ['backbone', 'neck', 'rpn_head']}


@MODELS.register_module()
class RetentiveTFA(TFA):
    """:class:`TFA` beside a frozen base detector whose base-class detections are kept.

    The base branch is the base training's detector, in its own label space. Its weights
    come from the base checkpoint through :meth:`load_base_detector` (called by
    ``FewShotSurgeryHook``), which also maps its classes onto this detector's by name; it is
    never initialised otherwise (building it draws nothing from torch's random stream, so the
    fine-tuned detector trains as :class:`TFA` would), gets no gradient and stays in eval
    mode. At inference, the detections of the classes the base detector knows (retained) are
    its own, those of the other (novel) classes the fine-tuned detector's; both branches predict
    with this detector's ``test_cfg``, each keeping at most its ``max_per_img``. Before
    :meth:`load_base_detector` it predicts as :class:`TFA`.

    ``share`` runs parts once for both branches, as Retentive R-CNN shares them; the parts
    shared must be frozen in fine-tuning (so they stay the base detector's, which
    :meth:`load_base_detector` checks):

    - ``'backbone'``: the backbone and neck run once; each branch's RPN and RoI head predict
      from those features (predefined proposals are not used).
    - ``'proposals'``: the RPN too (``'rpn_head'`` frozen): its proposals are pooled once and
      only the two box heads run on the RoI features (the RoI extractors must be configured
      alike).

    Args:
        base_detector (str | dict): The base training's config file (its ``model`` is built,
            as mmdet's ``KnowledgeDistillationSingleStageDetector`` builds its teacher) or
            the base detector's model config.
        share (str, optional): What runs once for both branches: ``None`` (two detectors),
            ``'backbone'`` or ``'proposals'``. Defaults to None.
        **kwargs: The arguments of :class:`TFA`.

    Raises:
        ValueError: An unknown ``share``, a shared part not in ``frozen_parameters``, or
            (``'proposals'``) RoI extractors configured otherwise or a RoI head whose box
            forward is not mmdet's ``StandardRoIHead``'s.
    """

    #: the base branch predicts the retained classes at test time (a teacher's does not)
    base_branch_predicts = True

    def __init__(self, base_detector: Union[str, ConfigType], share: Optional[str] = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if share not in SHARED:
            raise ValueError(f'RetentiveTFA: share must be one of {list(SHARED)}, got {share!r}')
        self.share = share
        self.shared = [part for part in SHARED[share] if part != 'neck' or self.with_neck]
        if not set(self.shared) <= set(self.frozen_parameters):
            raise ValueError(f'RetentiveTFA: share={share!r} needs {self.shared} in '
                             f'frozen_parameters (the shared parts must stay the base '
                             f"detector's), got {list(self.frozen_parameters)}")
        base_detector = base_detector_config(base_detector)
        # one test_cfg (score threshold, NMS, detections per image) for every detection
        base_detector = dict(base_detector, test_cfg=kwargs.get('test_cfg'))
        if share == 'proposals':
            ours, theirs = (cfg.get('roi_head', {}).get('bbox_roi_extractor')
                            for cfg in (kwargs, base_detector))
            if ours != theirs:
                raise ValueError(f"RetentiveTFA: share='proposals' pools the RoI features "
                                 f'once for both box heads, but the RoI extractors differ: '
                                 f'{ours} and the base detector\'s {theirs}')
        with torch.random.fork_rng(devices=[]):  # its init draws leave the stream alone
            self.base_detector = MODELS.build(base_detector)
        if share == 'proposals':
            own_forward = [type(detector.roi_head)._bbox_forward
                           for detector in (self, self.base_detector)]
            if any(forward is not StandardRoIHead._bbox_forward for forward in own_forward):
                raise ValueError("RetentiveTFA: share='proposals' runs the box heads on RoI "
                                 'features pooled once, which skips a RoI head\'s own box '
                                 'forward (a DecoupledStandardRoIHead\'s layer): use mmdet\'s '
                                 'StandardRoIHead in both branches, or share=\'backbone\'')
        self.base_detector.requires_grad_(False)
        self.base_detector.is_init = True  # mmengine's init_weights skips it: weights are loaded
        num_base = _num_classes(self.base_detector)
        # per class of the base detector: its label in this detector's label space, or -1
        self.register_buffer('base_labels', torch.full((num_base,), -1, dtype=torch.long))

    def load_base_detector(self, state_dict: Mapping[str, Tensor],
                           base_classes: Sequence[str], classes: Sequence[str],
                           novel_classes: Sequence[str] = ()) -> None:
        """Load the base branch and map its classes onto the label space by name.

        Args:
            state_dict (Mapping[str, Tensor]): The base checkpoint's weights.
            base_classes (Sequence[str]): The base checkpoint's classes, in its label order.
            classes (Sequence[str]): This detector's label space.
            novel_classes (Sequence[str]): Classes the base branch never predicts, even where
                the checkpoint knows them (the fine-tuned detector's). Defaults to ().

        Raises:
            ValueError: If the number of base classes differs from the base branch's, or
                with ``share``, if a shared part differs from the checkpoint's.
            RuntimeError: If a weight of the base branch is missing or does not fit.
        """
        if len(base_classes) != len(self.base_labels):
            raise ValueError(f'RetentiveTFA: the base checkpoint has {len(base_classes)} '
                             f'classes, base_detector is built for {len(self.base_labels)}')
        self.base_detector.load_state_dict(dict(state_dict), strict=True)
        if self.share:
            ours, theirs = self.state_dict(), self.base_detector.state_dict()
            prefixes = tuple(part + '.' for part in self.shared)
            differ = [key for key in set(ours) | set(theirs)
                      if key.startswith(prefixes) and not (
                          key in ours and key in theirs and ours[key].shape == theirs[key].shape
                          and torch.equal(ours[key], theirs[key]))]
            if differ:
                raise ValueError(f'RetentiveTFA: share={self.share!r}: {self.shared} differ '
                                 f"from the base checkpoint's ({sorted(differ)[:3]} ...): load "
                                 'the base checkpoint into the model first')
        labels = [classes.index(name) if name in classes and name not in novel_classes else -1
                  for name in base_classes]
        self.base_labels.copy_(torch.as_tensor(labels, dtype=torch.long))

    def _load_from_state_dict(self, state_dict: Mapping[str, Any], prefix: str,
                              *args: Any, **kwargs: Any) -> None:
        """Refuse a trained model whose base branch has another number of classes (loading
        it non-strictly would leave the branch off without a word)."""
        theirs = state_dict.get(prefix + 'base_labels')
        if theirs is not None and theirs.shape != self.base_labels.shape:
            raise ValueError(
                f'RetentiveTFA: base_labels: the checkpoint\'s base branch has {len(theirs)} '
                f'classes, this model\'s {len(self.base_labels)}: the base branch is sized by '
                'the trained model (load_from), or by fewshot.base_checkpoint\'s classes: '
                'name the base checkpoint the model was fine-tuned from')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def retained(self) -> Tensor:
        """Per class of the label space, whether the base branch's detections are kept.

        Returns:
            Tensor: Shape (num_classes,), bool.
        """
        retained = torch.zeros(self.roi_head.bbox_head.num_classes, dtype=torch.bool,
                               device=self.base_labels.device)
        retained[self.base_labels[self.base_labels >= 0]] = True
        return retained

    def train(self, mode: bool = True) -> 'RetentiveTFA':
        """Set the training mode; the base branch stays in eval mode."""
        super().train(mode)
        self.base_detector.eval()
        return self

    def predict_detections(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                           rescale: bool = True) -> SampleList:
        """Novel-class detections of the fine-tuned detector, base-class ones of the base branch.

        Args:
            batch_inputs (Tensor): Images, shape (N, C, H, W).
            batch_data_samples (list[DetDataSample]): Their data samples.
            rescale (bool): Whether to rescale the results. Defaults to True.

        Returns:
            list[DetDataSample]: The samples with ``pred_instances``, sorted by score.
        """
        retained = self.retained()
        if not bool(retained.any()):
            return super().predict_detections(batch_inputs, batch_data_samples, rescale=rescale)
        base_samples = copy.deepcopy(batch_data_samples)  # predict() fills the samples it gets
        if self.share == 'proposals':
            samples, base_samples = _predict_two_box_heads(self, batch_inputs,
                                                           batch_data_samples, base_samples,
                                                           rescale)
        elif self.share == 'backbone':
            features = self.extract_feat(batch_inputs)
            samples = _predict_from_features(self, features, batch_data_samples, rescale)
            base_samples = _predict_from_features(self.base_detector, features, base_samples,
                                                  rescale)
        else:
            samples = super().predict_detections(batch_inputs, batch_data_samples,
                                                 rescale=rescale)
            base_samples = self.base_detector.predict(batch_inputs, base_samples,
                                                      rescale=rescale)
        for sample, base_sample in zip(samples, base_samples):
            ours, theirs = sample.pred_instances, base_sample.pred_instances
            theirs.labels = self.base_labels[theirs.labels]
            merged = InstanceData.cat([ours[~retained[ours.labels]], theirs[theirs.labels >= 0]])
            sample.pred_instances = merged[merged.scores.argsort(descending=True)]
        return samples


def _predict_from_features(detector: torch.nn.Module, features: Tuple[Tensor, ...],
                           samples: SampleList, rescale: bool) -> SampleList:
    """A two-stage detector's predictions from features already extracted: its RPN's
    proposals, then its RoI head's detections (as mmdet's ``TwoStageDetector.predict``)."""
    proposals = detector.rpn_head.predict(features, samples, rescale=False)
    results = detector.roi_head.predict(features, proposals, samples, rescale=rescale)
    return detector.add_pred_to_datasample(samples, results)


def _predict_two_box_heads(model: RetentiveTFA, batch_inputs: Tensor, samples: SampleList,
                           base_samples: SampleList, rescale: bool
                           ) -> Tuple[SampleList, SampleList]:
    """Both branches' predictions from one backbone pass, one set of proposals and one RoI
    pooling: each box head scores the same RoI features (as ``StandardRoIHead.predict_bbox``,
    whose path is taken where no image has a proposal)."""
    features = model.extract_feat(batch_inputs)
    proposals = model.rpn_head.predict(features, samples, rescale=False)
    boxes = [proposal.bboxes for proposal in proposals]
    rois = bbox2roi(boxes)
    if rois.shape[0] == 0:
        return (_predict_from_features(model, features, samples, rescale),
                _predict_from_features(model.base_detector, features, base_samples, rescale))
    extractor = model.roi_head.bbox_roi_extractor
    roi_features = extractor(features[:extractor.num_inputs], rois)
    per_image = tuple(len(box) for box in boxes)
    img_metas = [sample.metainfo for sample in samples]
    predicted = []
    for detector, its_samples in ((model, samples), (model.base_detector, base_samples)):
        cls_scores, bbox_preds = detector.roi_head.bbox_head(roi_features)
        results = detector.roi_head.bbox_head.predict_by_feat(
            rois=rois.split(per_image), cls_scores=cls_scores.split(per_image),
            bbox_preds=bbox_preds.split(per_image), batch_img_metas=img_metas,
            rcnn_test_cfg=detector.roi_head.test_cfg, rescale=rescale)
        predicted.append(detector.add_pred_to_datasample(its_samples, results))
    return predicted[0], predicted[1]


def base_detector_config(base_detector: Union[str, Path, ConfigType]) -> ConfigType:
    """The model config of ``base_detector``: a base training config file's ``model``, or the
    model config itself.

    Args:
        base_detector (str | Path | dict): What ``RetentiveTFA(base_detector=...)`` takes.

    Returns:
        dict: The base detector's model config.
    """
    if isinstance(base_detector, (str, Path)):
        return Config.fromfile(base_detector)['model']
    return base_detector


def _num_classes(detector: torch.nn.Module) -> int:
    """The number of classes of a two-stage (``roi_head.bbox_head``) or one-stage
    (``bbox_head``) mmdet detector."""
    head = getattr(getattr(detector, 'roi_head', None), 'bbox_head', None) \
        or getattr(detector, 'bbox_head', None)
    if head is None or not hasattr(head, 'num_classes'):
        raise TypeError(f'RetentiveTFA: base_detector: {type(detector).__name__} has no '
                        'roi_head.bbox_head or bbox_head with num_classes')
    return head.num_classes
