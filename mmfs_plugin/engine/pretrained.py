"""Pretrained weights of a config's ``init_cfg``, resolved to a local file before training.

:func:`resolve_pretrained` finds every ``Pretrained`` checkpoint of ``cfg.model`` in torch's hub
cache (``$TORCH_HOME/hub/checkpoints``), else downloads it there from mmengine's own URL, and
points the config at the file, so ``init_weights`` needs neither the network nor torchvision.
A checkpoint that cannot be had raises :class:`PretrainedWeightsError`: one line naming the
weights, the config key and how to pass a local file. ``tools/train.py`` calls it first.
"""
import os
import os.path as osp
import socket
import sys
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlparse

import mmengine
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import checkpoint as mmengine_checkpoint

from mmfs_data.errors import FieldError

#: Seconds a download may wait on the network at one step (connect, each read) before it fails.
DOWNLOAD_TIMEOUT_S = 30.0


class PretrainedWeightsError(FieldError):
    """Pretrained weights of an ``init_cfg`` that cannot be had.

    ``str(error)`` is one line, ``f'{file}: {field}: {reason}'``: the config file, the config
    key of the checkpoint (e.g. ``model.backbone.init_cfg.checkpoint``), and what was wanted,
    why it failed and the option that points the key at a local file.

    Args:
        file (str): The config file.
        field (str): The config key holding the checkpoint.
        reason (str): What is wrong and what to do.
    """


@dataclass(frozen=True)
class PretrainedCheckpoint:
    """One ``Pretrained`` checkpoint of a config, as resolved.

    Args:
        key (str): The config key holding it, e.g. ``'model.backbone.init_cfg.checkpoint'``.
        checkpoint (str): The checkpoint as the config stated it (``'torchvision://resnet50'``).
        url (str, optional): The URL mmengine downloads it from; None for a local file.
        file (str): The local file the config names now (in the hub cache for a URL).
    """

    key: str
    checkpoint: str
    url: Optional[str]
    file: str


def iter_pretrained_init_cfgs(cfg: Any, prefix: str = 'model') -> Iterator[Tuple[str, dict]]:
    """The ``Pretrained`` init configs nested in a model config, with their config keys.

    Every ``init_cfg`` (a dict or a list of dicts) at any depth is looked at; those of type
    ``Pretrained`` with a ``checkpoint`` are yielded, as the very dicts of ``cfg`` (changing one
    changes the config).

    Args:
        cfg (Any): A model config (``cfg.model``) or any part of it.
        prefix (str): The config key of ``cfg``.

    Yields:
        tuple[str, dict]: The config key of the ``checkpoint`` (e.g.
        ``'model.backbone.init_cfg.checkpoint'``) and the init config dict.
    """
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            path = f'{prefix}.{key}'
            if key == 'init_cfg':
                inits = value if isinstance(value, (list, tuple)) else [value]
                for index, init in enumerate(inits):
                    init_path = f'{path}[{index}]' if isinstance(value, (list, tuple)) else path
                    if isinstance(init, dict) and init.get('type') == 'Pretrained' \
                            and init.get('checkpoint'):
                        yield f'{init_path}.checkpoint', init
            else:
                yield from iter_pretrained_init_cfgs(value, path)
    elif isinstance(cfg, (list, tuple)):
        for index, value in enumerate(cfg):
            yield from iter_pretrained_init_cfgs(value, f'{prefix}[{index}]')


def hub_checkpoint_dir() -> str:
    """torch's hub cache of checkpoints, where mmengine downloads URLs to.

    Returns:
        str: ``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``; by default
        ``~/.cache/torch/hub/checkpoints``).
    """
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def cached_file(url: str) -> str:
    """The file of the hub cache that holds a URL's download (torch.hub's naming).

    Args:
        url (str): The URL.

    Returns:
        str: ``hub_checkpoint_dir()/<the URL's file name>``.
    """
    return osp.join(hub_checkpoint_dir(), osp.basename(urlparse(url).path))


def _one_line(error: BaseException) -> str:
    """An exception as ``'<type>: <message>'`` on one line."""
    message = ' '.join(str(error).split())
    return f'{type(error).__name__}: {message}' if message else type(error).__name__


def _torchvision_urls() -> Tuple[Dict[str, str], Optional[str]]:
    """The URLs of ``torchvision://`` names, as mmengine resolves them.

    Returns:
        tuple[dict[str, str], str | None]: Name -> URL, and why torchvision could not be asked
        (None when it was): then the names are those of the table mmengine ships.
    """
    try:
        return mmengine_checkpoint.get_torchvision_models(), None
    except Exception as error:  # noqa: BLE001  (missing, or a build that fails to import)
        table = osp.join(mmengine.__path__[0], 'hub', 'torchvision_0.12.json')
        urls = mmengine.load(table) if osp.isfile(table) else {}
        return dict(urls), f'torchvision does not import ({_one_line(error)})'


def _loaded_as(checkpoint: str, *prefixes: str) -> bool:
    """Whether mmengine's ``CheckpointLoader`` loads a checkpoint with the loader of a scheme.

    The loader is the one registered now (the plugin's safe loaders replace some of mmengine's),
    picked by mmengine's own matching of the registered prefixes.

    Args:
        checkpoint (str): The checkpoint.
        *prefixes (str): The scheme's prefixes, e.g. ``'http://', 'https://'``; ``''`` for a
            local path.

    Returns:
        bool: Whether it is loaded as one of ``prefixes``.
    """
    loaders = mmengine_checkpoint.CheckpointLoader._schemes
    loader = mmengine_checkpoint.CheckpointLoader._get_checkpoint_loader(checkpoint)
    return any(loader is loaders.get(prefix) for prefix in prefixes)


def checkpoint_url(checkpoint: str) -> Tuple[Optional[str], Optional[str]]:
    """The URL mmengine would load a checkpoint from.

    The scheme is the loader that mmengine's ``CheckpointLoader`` picks for the checkpoint:
    ``torchvision://`` (and ``modelzoo://``) names and ``open-mmlab://`` (``openmmlab://``)
    names are looked up in mmengine's tables, ``http(s)://`` is the URL itself.

    Args:
        checkpoint (str): The ``checkpoint`` of a ``Pretrained`` init config.

    Returns:
        tuple[str | None, str | None]: The URL, or the local file (an ``open-mmlab://`` name
        that mmengine maps to a file under its home), or (None, None) for a local path or a
        scheme this module leaves to mmengine (``s3://``, ``pavi://``, ``mmcls://``...).

    Raises:
        LookupError: If the name is not in mmengine's table (the message says why).
    """
    name = checkpoint.split('://', 1)[-1]
    if _loaded_as(checkpoint, 'http://', 'https://'):
        return checkpoint, None
    if _loaded_as(checkpoint, 'torchvision://', 'modelzoo://'):
        urls, no_torchvision = _torchvision_urls()
        if name not in urls:
            why = f'; {no_torchvision}, which resolves the newer names' if no_torchvision else ''
            raise LookupError(f'{checkpoint}: not a name of torchvision weights that mmengine '
                              f'knows{why}')
        return urls[name], None
    if _loaded_as(checkpoint, 'open-mmlab://', 'openmmlab://'):
        name = mmengine_checkpoint.get_deprecated_model_names().get(name, name)
        urls = mmengine_checkpoint.get_external_models()
        if name not in urls:
            raise LookupError(f'{checkpoint}: not a name of OpenMMLab weights that mmengine '
                              'knows')
        if urls[name].startswith(('http://', 'https://')):
            return urls[name], None
        return None, osp.join(mmengine_checkpoint._get_mmengine_home(), urls[name])
    return None, None


def download(url: str, file: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> None:
    """Download a URL into a file as torch.hub does (a temporary file, then moved).

    Args:
        url (str): The URL.
        file (str): The file to write.
        timeout (float): Seconds the download may wait on the network at one step.

    Raises:
        OSError: If it fails (no network: ``URLError``; a timeout; an HTTP error).
        http.client.HTTPException: If the server's answer breaks off.
        ValueError: If ``url`` is not one urllib can open.
    """
    os.makedirs(osp.dirname(file), exist_ok=True)
    print_log(f'downloading {url} to {file}', logger='current')
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # urlopen in torch.hub waits forever otherwise
    try:
        torch.hub.download_url_to_file(url, file, None, progress=sys.stderr.isatty())
    finally:
        socket.setdefaulttimeout(previous)


def _how_to_fix(key: str, file_name: str, cache: Optional[str]) -> str:
    """What to do: the option pointing the key at a local file (and the cache folder)."""
    in_cache = (f"put {file_name} into {cache}/ (torch's hub cache, "
                '$TORCH_HOME/hub/checkpoints/) or ') if cache else ''
    return f'{in_cache}pass --cfg-options {key}=/path/to/{file_name}'


def resolve_pretrained(cfg: Config,
                       timeout: float = DOWNLOAD_TIMEOUT_S) -> List[PretrainedCheckpoint]:
    """Point every ``Pretrained`` checkpoint of ``cfg.model`` at a local file, or fail in one line.

    A URL (``torchvision://``, ``open-mmlab://``, ``http(s)://``) becomes its file in torch's hub
    cache, downloaded first when it is not there, as mmengine would; a local path must be a
    file. Other schemes are left to mmengine. The config is changed in place.

    Args:
        cfg (Config): The config (its ``model``; ``cfg.filename`` names it in errors).
        timeout (float): Seconds a download may wait on the network at one step.

    Returns:
        list[PretrainedCheckpoint]: The checkpoints, as resolved.

    Raises:
        PretrainedWeightsError: If a checkpoint is not a local file, not in the hub cache and
            cannot be downloaded, or is a name mmengine does not know.
    """
    source = getattr(cfg, 'filename', None) or '<config>'
    resolved = []
    for key, init in iter_pretrained_init_cfgs(cfg.get('model'), 'model'):
        checkpoint = str(init['checkpoint'])
        try:
            url, mapped_file = checkpoint_url(checkpoint)
        except LookupError as error:
            fix = _how_to_fix(key, '<weights>.pth', None)
            raise PretrainedWeightsError(source, key, f'{error.args[0]}; {fix}') from None
        if url is None:
            file = mapped_file or osp.expanduser(checkpoint)
            if mapped_file is None and not _loaded_as(checkpoint, ''):
                continue  # s3://, pavi://, mmcls://...: mmengine's own business
            if not osp.isfile(file):
                raise PretrainedWeightsError(
                    source, key, f'{checkpoint}: no such file ({file}); '
                    f'{_how_to_fix(key, osp.basename(file), None)}')
        else:
            file = cached_file(url)
            if not osp.isfile(file):
                wanted = checkpoint if checkpoint == url else f'{checkpoint} ({url})'
                fix = _how_to_fix(key, osp.basename(file), hub_checkpoint_dir())
                try:
                    download(url, file, timeout)
                except (OSError, HTTPException, ValueError) as error:
                    raise PretrainedWeightsError(
                        source, key, f"{wanted} is not in torch's hub cache and cannot be "
                        f'downloaded ({_one_line(error)}); {fix}') from None
            init['checkpoint'] = file
        if file != checkpoint:
            print_log(f'{key}: {checkpoint} is {file}', logger='current')
        resolved.append(PretrainedCheckpoint(key, checkpoint, url, file))
    return resolved
