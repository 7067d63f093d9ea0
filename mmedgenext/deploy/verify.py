"""ONNX Runtime against PyTorch: the exported graph must give what the
OpenMMLab model itself predicts (its data preprocessor and its task's
predict path, mmdet's NMS included) on the same images.

ONNX Runtime is imported where a session is made: the package imports
without it (the light :mod:`mmedgenext.apis` reads the tasks' sizes)."""
import numpy as np

from .images import noise_images
from .tasks import task_for


def onnx_session(path, threads=None, providers=None, spin=True):
    """``spin=False`` lets idle worker threads sleep at once: what a
    benchmark that interleaves runtimes on the same cores needs."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    if not spin:
        options.add_session_config_entry('session.intra_op.allow_spinning',
                                         '0')
    options.log_severity_level = 3
    return ort.InferenceSession(
        str(path), options,
        providers=providers or ['CPUExecutionProvider'])


def run_onnx(session, img):
    """Outputs by name for a float (B, 3, H, W) BGR 0-255 batch."""
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {'image': np.asarray(img, np.float32)})
    return dict(zip(names, values))


def verify_onnx(cfg, model, path, size, batch=1, atol=1e-4, img=None):
    """Run PyTorch and ONNX Runtime on the same images (float BGR 0-255;
    default: ``batch`` noise images) and compare them as the task does
    (:meth:`DeployTask.compare`); return its report."""
    if img is None:
        img = noise_images(batch, size)
    task = task_for(cfg, model)
    reference = task.reference(model, img)
    outputs = run_onnx(onnx_session(path), img)
    return task.compare(reference, outputs, size, atol)
