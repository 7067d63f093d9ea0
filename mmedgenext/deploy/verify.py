"""ONNX Runtime against PyTorch: the exported graph must give what the
OpenMMLab model itself predicts (its data preprocessor and its task's
predict path, mmdet's NMS included) on the same images."""
from .images import noise_images
from .runtimes import load_runtime
from .tasks import deploy_task


def verify_onnx(cfg, model, path, size, batch=1, atol=1e-4, img=None):
    """Run PyTorch and ONNX Runtime on the same images (float BGR 0-255;
    default: ``batch`` noise images) and compare them as the task does
    (:meth:`DeployTask.compare`); return its report."""
    if img is None:
        img = noise_images(batch, size)
    task = deploy_task(cfg, model)
    reference = task.reference(model, img)
    outputs = load_runtime(path)(img)
    return task.compare(reference, outputs, size, atol)
