"""Image classifiers (mmpretrain): the graph returns logits."""
import numpy as np
import torch
import torch.nn as nn

from .base import DeployTask, Normalize, OnnxMismatchError


class ClassifierGraph(nn.Module):
    output_names = ['logits']
    spatial_axes = {}  # (height, width) axes of each output

    def __init__(self, model, cfg):
        super().__init__()
        self.normalize = Normalize(cfg.model.data_preprocessor)
        self.model = model

    def forward(self, img):
        return self.model(self.normalize(img), mode='tensor')


class ClassifierDeploy(DeployTask):
    quality_metrics = ('top1', )
    free_size = True  # global pooling

    def graph(self, model, size, output=None):
        return ClassifierGraph(model, self.cfg).eval()

    def reference(self, model, img):
        with torch.no_grad():
            data = model.data_preprocessor(dict(inputs=list(img)), False)
            return dict(logits=model(data['inputs'], mode='tensor').numpy())

    def compare(self, reference, outputs, size, atol=1e-4):
        diff = float(np.abs(outputs['logits'] - reference['logits']).max())
        if not diff <= atol:
            raise OnnxMismatchError(f'logits differ by up to {diff:.3g} '
                                    f'(tolerance {atol:g})')
        return f'max |logits diff| {diff:.3g}'

    def compare_int8(self, pairs):
        """Top-1 agreement and logit differences (also relative to the
        float logits' standard deviation: the error on their scale)."""
        f = np.concatenate([a['logits'] for a, _ in pairs])
        q = np.concatenate([b['logits'] for _, b in pairs])
        diff = np.abs(f - q)
        return dict(images=len(f),
                    top1_agreement=float((f.argmax(1) == q.argmax(1)).mean()),
                    max_abs_diff=float(diff.max()),
                    mean_abs_diff=float(diff.mean()),
                    mean_diff_over_std=float(diff.mean() / f.std()))

    def add_prediction(self, outputs, data_sample, shape, size):
        score = outputs['logits'].softmax(0)
        data_sample.set_pred_score(score).set_pred_label(
            score.argmax(0, keepdim=True))
