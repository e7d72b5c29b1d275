"""FewShotSurgeryHook: weight surgery from a base checkpoint when fine-tuning starts."""
from typing import Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from torch import Tensor, nn

from mmdet.registry import HOOKS
from .surgery import (HEAD_PREFIX, SURGERY_METHODS, SurgeryError, SurgerySource,
                      load_surgery_source, surgery)


@HOOKS.register_module()
class FewShotSurgeryHook(Hook):
    """Load a base checkpoint into the model with its head rows mapped by class name.

    At ``before_train`` of a run that starts from scratch, the hook loads ``checkpoint``
    (through mmengine's ``CheckpointLoader``), maps the rows of ``fc_cls``/``fc_reg`` from
    the checkpoint's classes (``meta['dataset_meta']['classes']``) onto the fine-tuning
    dataset's classes (``train_dataloader.dataset.metainfo['classes']``, else
    ``model.dataset_meta['classes']``) with :func:`~mmfs_plugin.engine.surgery.surgery`,
    and loads every weight into the model. ``load_from`` is therefore unnecessary; if set,
    it is loaded first by the Runner and the hook overrides it. On a resumed run
    (``runner.iter > 0``) the hook does nothing: the resumed weights already carry the
    surgery and the fine-tuning since.

    When the dataset's metainfo lists ``novel_classes``, every other target class must be
    in the checkpoint (``randinit``), so a misspelt base class is an error, not a random row.

    Args:
        checkpoint (str | Sequence[str]): The base checkpoint; for ``combine``, the base
            checkpoint then the novel-trained one(s).
        method (str): ``'randinit'``, ``'combine'`` or ``'remove'``.
            Defaults to ``'randinit'``.
        seed (int, optional): Seed of the random rows. Defaults to None: the runner's seed.
        std (float): Standard deviation of the random rows. Defaults to 0.01.
        head_prefix (str): Name of the bbox head in the model.
            Defaults to ``'roi_head.bbox_head'``.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 checkpoint: Union[str, Sequence[str]],
                 method: str = 'randinit',
                 seed: Optional[int] = None,
                 std: float = 0.01,
                 head_prefix: str = HEAD_PREFIX) -> None:
        if method not in SURGERY_METHODS:
            raise ValueError(f'FewShotSurgeryHook: method: expected one of '
                             f'{SURGERY_METHODS}, got {method!r}')
        self.checkpoints = [checkpoint] if isinstance(checkpoint, str) else list(checkpoint)
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
        sources = [load_surgery_source(filename) for filename in self.checkpoints]
        classes = list(metainfo['classes'])
        seed = runner.seed if self.seed is None else self.seed
        head = model.get_submodule(self.head_prefix)
        state = self._surgery(sources, classes, metainfo, seed, head)
        _check_shapes(model, state, self.checkpoints[0])
        own = model.state_dict()
        unused = [key for key in state if key.startswith(self.head_prefix) and key not in own]
        if unused:  # e.g. the classifier bias a cosine head does not have
            runner.logger.info(f'FewShotSurgeryHook: {unused} of {self.checkpoints[0]} have no '
                               f'counterpart in the {type(head).__name__}: not loaded')
            state = {key: value for key, value in state.items() if key not in unused}
        own_keys = set(own)
        missing = model.load_state_dict({k: v for k, v in state.items() if k in own_keys},
                                        strict=False).missing_keys
        retentive = hasattr(model, 'load_base_detector')
        # RetentiveTFA's base branch and its mask of retained classes are loaded just below
        missing = [key for key in missing
                   if not (retentive and key.startswith(('base_detector.', 'retained')))]
        if missing:
            runner.logger.warning(
                f'FewShotSurgeryHook: {len(missing)} tensors of the model are not in '
                f'{self.checkpoints[0]} and keep their initialisation: {missing[:8]}'
                + (' ...' if len(missing) > 8 else ''))
        if retentive:  # RetentiveTFA: its frozen base branch
            branch = model.base_detector
            base_state = self._surgery(sources[:1], classes, metainfo, seed,
                                       branch.get_submodule(self.head_prefix))
            wanted = branch.state_dict()
            model.load_base_detector({key: base_state[key] for key in wanted if key in base_state},
                                     [name in sources[0].classes for name in classes])
            runner.logger.info(f'FewShotSurgeryHook: the base branch holds {self.checkpoints[0]}; '
                               f'its detections of {list(sources[0].classes)} are kept')

    def _surgery(self, sources: Sequence[SurgerySource], classes: Sequence[str],
                 metainfo: dict, seed: int, head: nn.Module) -> dict:
        """:func:`surgery` of ``sources`` onto ``classes`` for a box head like ``head``."""
        return surgery(sources, list(classes), self.method,
                       novel_classes=metainfo.get('novel_classes'), seed=seed, std=self.std,
                       head_prefix=self.head_prefix,
                       reg_class_agnostic=getattr(head, 'reg_class_agnostic', None),
                       box_dim=head.bbox_coder.encode_size)

def _check_shapes(model: nn.Module, state: dict[str, Tensor], source: str) -> None:
    """Raise if a tensor of ``state`` does not fit the model's tensor of the same name.

    mmengine's ``load_state_dict(strict=False)`` would only warn and skip it.
    """
    own = model.state_dict()
    for key, tensor in state.items():
        if key in own and own[key].shape != tensor.shape:
            raise SurgeryError(
                source, key, f'shape {tuple(tensor.shape)} after surgery does not fit the '
                f"model's {tuple(own[key].shape)}")
