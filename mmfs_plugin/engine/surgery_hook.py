"""FewShotSurgeryHook: weight surgery from a base checkpoint when fine-tuning starts."""
from dataclasses import replace
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch import Tensor

from mmdet.registry import HOOKS
from ..models import RetentiveTFA
from .surgery import (HEAD_PREFIX, SURGERY_METHODS, SurgeryError, SurgerySource,
                      load_surgery_source, surgery)


@HOOKS.register_module()
class FewShotSurgeryHook(Hook):
    """Load a base checkpoint into the model with its head rows mapped by class name.

    At ``before_train`` of a run that starts from scratch (not a resumed one), the rows of
    ``fc_cls``/``fc_reg`` are mapped from the checkpoint's classes
    (``meta['dataset_meta']['classes']``) onto the training dataset's (:func:`surgery`) and
    every weight is loaded into the model; ``load_from`` is unnecessary. When the dataset
    names ``novel_classes``, every other class must be in the checkpoint. A
    :class:`~mmfs_plugin.models.RetentiveTFA` (and :class:`~mmfs_plugin.models.DistilledTFA`,
    whose base branch is its teacher) also gets the checkpoint as its base branch
    (:meth:`~mmfs_plugin.models.RetentiveTFA.load_base_detector`), unless no class of the
    checkpoint is in the label space: its base branch is then off.

    When every target class is novel (a detector trained elsewhere, of another label space), the
    checkpoint gives every weight but the classes' rows, which start from N(0, ``std``)
    (``randinit``) or the head's own init (``remove``), even for a class whose name it knows;
    it may then come without class names (a model-zoo checkpoint).

    Args:
        checkpoint (str): The base checkpoint (a path or URI mmengine's
            ``CheckpointLoader`` reads).
        method (str): ``'randinit'`` (novel rows from N(0, ``std``)) or ``'remove'`` (the
            model keeps its own last layers). Defaults to ``'randinit'``.
        seed (int, optional): Seed of the random rows. Defaults to None: the runner's seed.
        std (float): Standard deviation of the random rows. Defaults to 0.01.
        head_prefix (str): Name of the bbox head in the model.
            Defaults to ``'roi_head.bbox_head'``.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 checkpoint: str,
                 method: str = 'randinit',
                 seed: Optional[int] = None,
                 std: float = 0.01,
                 head_prefix: str = HEAD_PREFIX) -> None:
        if method not in SURGERY_METHODS:
            raise ValueError(f'FewShotSurgeryHook: method: expected one of '
                             f'{SURGERY_METHODS}, got {method!r}')
        self.checkpoint = checkpoint
        self.method = method
        self.seed = seed
        self.std = std
        self.head_prefix = head_prefix

    def before_train(self, runner: Runner) -> None:
        """Apply the surgery unless the run was resumed.

        Args:
            runner (Runner): The runner of the fine-tuning.
        """
        if runner.iter > 0:
            runner.logger.info(f'FewShotSurgeryHook: resumed at iteration {runner.iter}, '
                               'weight surgery not re-applied')
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        candidates = (getattr(runner.train_dataloader.dataset, 'metainfo', None),
                      getattr(model, 'dataset_meta', None))
        metainfo = next((meta for meta in candidates if meta and meta.get('classes')), None)
        if metainfo is None:
            raise SurgeryError(
                'train_dataloader.dataset', "metainfo['classes']",
                'missing (and no model.dataset_meta): the target classes are unknown')
        classes = list(metainfo['classes'])
        novel = metainfo.get('novel_classes')
        all_novel = novel is not None and set(classes) <= set(novel)
        source = load_surgery_source(self.checkpoint, classes_required=not all_novel)
        if all_novel:  # another label space: no row is copied, even of a class of that name
            source = _unnamed_classes(source, self.head_prefix)
        seed = runner.seed if self.seed is None else self.seed
        head = model.get_submodule(self.head_prefix)
        state = surgery(source, classes, self.method,
                        novel_classes=metainfo.get('novel_classes'), seed=seed, std=self.std,
                        head_prefix=self.head_prefix,
                        reg_class_agnostic=getattr(head, 'reg_class_agnostic', None),
                        box_dim=head.bbox_coder.encode_size)
        own = model.state_dict()
        _check_shapes(own, state, self.checkpoint)
        unused = [key for key in state if key.startswith(self.head_prefix) and key not in own]
        if unused:  # e.g. the classifier bias a cosine head does not have
            runner.logger.info(f'FewShotSurgeryHook: {unused} of {self.checkpoint} have no '
                               f'counterpart in the {type(head).__name__}: not loaded')
        missing = model.load_state_dict({k: v for k, v in state.items() if k in own},
                                        strict=False).missing_keys
        retained = [name for name in source.classes
                    if name in classes and name not in (novel or ())]
        if isinstance(model, RetentiveTFA):
            if retained:
                self._load_base_branch(model, source, classes, novel or ())
                runner.logger.info(f'FewShotSurgeryHook: the base branch of '
                                   f'{type(model).__name__} holds {self.checkpoint}; its '
                                   f'classes {retained} are retained')
            else:
                runner.logger.info(f'FewShotSurgeryHook: no class of {self.checkpoint} is '
                                   'retained (every class is novel, or none of its classes is '
                                   'in the label space): the base branch is off, nothing is '
                                   'kept or distilled from it (the model trains and predicts '
                                   'as TFA)')
            missing = [key for key in missing
                       if not key.startswith(('base_detector.', 'base_labels'))]
        if missing:
            runner.logger.warning(
                f'FewShotSurgeryHook: {len(missing)} tensors of the model are not in '
                f'{self.checkpoint} and keep their initialisation: {missing[:8]}'
                + (' ...' if len(missing) > 8 else ''))

    def _load_base_branch(self, model: RetentiveTFA, source: SurgerySource,
                          classes: list, novel: Sequence[str]) -> None:
        """Load the checkpoint into the base branch, its errors named by the config key."""
        try:
            model.load_base_detector(source.state_dict, source.classes, classes, novel)
        except (RuntimeError, ValueError) as error:
            raise SurgeryError(self.checkpoint, 'model.base_detector', 'the base training '
                               'config it names does not build the model of this checkpoint '
                               '(name the config the checkpoint was trained with): '
                               f'{str(error).splitlines()[0]} ...') from error


def _unnamed_classes(source: SurgerySource, head_prefix: str) -> SurgerySource:
    """``source`` with placeholder names for the classes of its box head (its ``fc_cls``
    rows, background left out), which no target class can match."""
    weight = source.state_dict.get(f'{head_prefix}.fc_cls.weight')
    if weight is None:
        raise SurgeryError(source.name, f'{head_prefix}.fc_cls.weight',
                           'missing from the checkpoint')
    return replace(source, classes=tuple(f'<unnamed class {i}>'
                                         for i in range(weight.shape[0] - 1)))


def _check_shapes(own: dict[str, Tensor], state: dict[str, Tensor], source: str) -> None:
    """Raise if a tensor of ``state`` does not fit the model's (``own``) of the same name.

    mmengine's ``load_state_dict(strict=False)`` would only warn and skip it.
    """
    for key, tensor in state.items():
        if key in own and own[key].shape != tensor.shape:
            raise SurgeryError(
                source, key, f'shape {tuple(tensor.shape)} after surgery does not fit the '
                f"model's {tuple(own[key].shape)}")
