"""Warnings of the stack that a user of these tools can do nothing about
and that are known to be harmless, silenced by message and module for the
tools' own runs (each tool calls :func:`ignore_known_warnings` first; the
mmedgenext package silences nothing)."""
import logging
import warnings

# (message, category, module that warns): regular expressions.
WARNINGS = [
    # mmengine 0.10 reads installed packages with pkg_resources (configs'
    # mmdet::/mmseg::/mmpretrain:: bases) and reloads it on each lookup;
    # setuptools says on every import that the API is deprecated.
    (r'pkg_resources is deprecated as an API', UserWarning,
     r'(mmengine\.utils\.package_utils|importlib)\Z'),
    # Drawing a detection that touches the image border (mmdet clips boxes
    # to the image, the visualizer's check counts the border as outside).
    (r'Warning: The (bbox|polygon) is out of bounds', UserWarning,
     r'mmengine\.visualization\.visualizer\Z'),
]


class _DropMessage(logging.Filter):
    """Drops the records whose message starts with ``message``."""

    def __init__(self, message):
        super().__init__()
        self.message = message

    def filter(self, record):
        return not record.getMessage().startswith(self.message)


# (logger, filter): torch's CUDA toolkit lookup (imported by NNCF) on a
# machine with a CUDA toolkit but no GPU.
LOG_FILTERS = [
    ('torch.utils.cpp_extension', _DropMessage('No CUDA runtime is found')),
]


def ignore_known_warnings():
    for message, category, module in WARNINGS:
        warnings.filterwarnings('ignore', message, category, module)
    for logger, log_filter in LOG_FILTERS:
        logging.getLogger(logger).addFilter(log_filter)  # once: same object
