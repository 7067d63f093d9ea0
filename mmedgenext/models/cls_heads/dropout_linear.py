"""mmpretrain's ``LinearClsHead`` with dropout before the linear layer, as
ml-cvnets' classifiers (EdgeFormer: ``classifier_dropout`` 0.2)."""
import torch.nn as nn
from mmpretrain.models.heads import LinearClsHead

from mmedgenext.registry import MODELS


@MODELS.register_module()
class DropoutLinearClsHead(LinearClsHead):
    """``LinearClsHead`` whose pooled features pass ``nn.Dropout(dropout)``
    first; the weights keep ``LinearClsHead``'s names (``fc.*``).

    Args:
        dropout (float): Drop probability in training. Defaults to 0.2.
        **kwargs: ``LinearClsHead`` arguments.
    """

    def __init__(self, dropout=0.2, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= dropout < 1:
            raise ValueError(f'dropout must be in [0, 1), got {dropout}')
        self.dropout = nn.Dropout(dropout)

    def forward(self, feats):
        return self.fc(self.dropout(self.pre_logits(feats)))
