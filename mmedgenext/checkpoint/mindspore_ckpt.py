"""MindSpore checkpoint files (``.ckpt``) read without MindSpore.

A ``.ckpt`` is one protobuf ``Checkpoint`` message (MindSpore's
``checkpoint.proto``, proto2): repeated values, each a ``tag`` and a
``TensorProto`` of ``dims``, a dtype name (``'Float32'``) and the raw
little-endian bytes; strings and map tensors (embedding tables) are other
kinds of value. ``save_checkpoint(..., crc_check=True)`` appends
``b'crc_num'`` and a 10-byte CRC32. The schema is declared below through
protobuf's descriptor API (field numbers as MindSpore 2.10's
``mindspore/train/checkpoint_pb2.py``), so the wire format is parsed by
protobuf itself and nothing in a file can run code.
"""
import binascii
import math
from collections import namedtuple

import numpy as np
import torch
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

_CRC_MARK = b'crc_num'
_CRC_TRAILER = len(_CRC_MARK) + 10

# MindSpore's dtype names (``str(tensor.dtype)``) -> numpy dtype; bfloat16
# is read as its 16 bits and viewed as torch.bfloat16.
_DTYPES = {
    'Float16': '<f2', 'Float32': '<f4', 'Float64': '<f8', 'BFloat16': '<i2',
    'Int8': 'i1', 'Int16': '<i2', 'Int32': '<i4', 'Int64': '<i8',
    'UInt8': 'u1', 'UInt16': '<u2', 'UInt32': '<u4', 'UInt64': '<u8',
    'Bool': '?'
}

MindSporeTensor = namedtuple('MindSporeTensor', 'tag shape dtype data')
MindSporeTensor.__doc__ = """One tensor of a checkpoint: its tag (the
parameter name MindSpore wrote), shape, MindSpore dtype name and raw
bytes, already checked to match the shape and dtype."""


def _checkpoint_message_class():
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name='mmedgenext/mindspore_checkpoint.proto',
        package='mmedgenext.mindspore', syntax='proto2')

    def add(message, name, number, kind, label=field.LABEL_OPTIONAL,
            type_name=None, oneof=None):
        f = message.field.add(name=name, number=number, label=label,
                              type=kind)
        if type_name:
            f.type_name = '.mmedgenext.mindspore.' + type_name
        if oneof is not None:
            f.oneof_index = oneof

    tensor = proto.message_type.add(name='TensorProto')
    add(tensor, 'dims', 1, field.TYPE_INT64, field.LABEL_REPEATED)
    add(tensor, 'tensor_type', 2, field.TYPE_STRING, field.LABEL_REQUIRED)
    add(tensor, 'tensor_content', 3, field.TYPE_BYTES, field.LABEL_REQUIRED)
    map_tensor = proto.message_type.add(name='MapTensorProto')
    add(map_tensor, 'tensor', 1, field.TYPE_MESSAGE, field.LABEL_REPEATED,
        'TensorProto')
    checkpoint = proto.message_type.add(name='Checkpoint')
    value = checkpoint.nested_type.add(name='Value')
    value.oneof_decl.add(name='value')
    add(value, 'tag', 1, field.TYPE_STRING, field.LABEL_REQUIRED)
    add(value, 'tensor', 2, field.TYPE_MESSAGE, type_name='TensorProto',
        oneof=0)
    add(value, 'maptensor', 3, field.TYPE_MESSAGE,
        type_name='MapTensorProto', oneof=0)
    add(checkpoint, 'value', 1, field.TYPE_MESSAGE, field.LABEL_REPEATED,
        'Checkpoint.Value')
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName('mmedgenext.mindspore.Checkpoint'))


Checkpoint = _checkpoint_message_class()


def is_mindspore_checkpoint(path):
    """Whether the file starts as a MindSpore checkpoint does: field 1
    (``value``) of the message, whose first field is 1 (``tag``), both
    length-delimited. PyTorch files start with ``PK`` (zip) or a pickle
    opcode, never with these bytes."""
    with open(path, 'rb') as f:
        head = f.read(12)
    if head[:1] != b'\n':
        return False
    end = 1
    while end < len(head) and head[end] & 0x80:  # the varint's length
        end += 1
    return head[end + 1:end + 2] == b'\n'


def read_mindspore_checkpoint(path):
    """The tensors of a MindSpore checkpoint, in file order, as
    :class:`MindSporeTensor` (string and map-tensor values are left out).

    Raises ValueError, in one line, on a file protobuf cannot parse
    (truncated, damaged, encrypted), a CRC that does not match, and a
    tensor whose dtype is unknown or whose bytes do not make its shape:
    every size is checked against the file before a tensor is made.
    """
    with open(path, 'rb') as f:
        data = f.read()
    if data[-_CRC_TRAILER:-10] == _CRC_MARK:
        data, crc = data[:-_CRC_TRAILER], data[-10:]
        if binascii.crc32(data) != int.from_bytes(crc, 'big'):
            raise ValueError(f'{path}: the CRC32 MindSpore stored does not '
                             'match the contents; the file is damaged')
    checkpoint = Checkpoint()
    try:
        checkpoint.ParseFromString(data)
    except DecodeError:
        raise ValueError(
            f'{path} is not a readable MindSpore checkpoint: protobuf '
            'cannot parse it (truncated, damaged or encrypted file)'
        ) from None
    tensors = []
    for value in checkpoint.value:
        if value.WhichOneof('value') != 'tensor' or \
                value.tensor.tensor_type == 'str':
            continue
        tensors.append(_checked(path, value.tag, value.tensor))
    return tensors


def _checked(path, tag, proto):
    dtype, dims = proto.tensor_type, list(proto.dims)
    if dtype not in _DTYPES:
        raise ValueError(f'{path}: tensor {tag!r} has dtype {dtype!r}, not '
                         f'one of MindSpore\'s ({", ".join(_DTYPES)})')
    if any(d < 0 for d in dims):
        raise ValueError(f'{path}: tensor {tag!r} has dims {dims}')
    # MindSpore writes a scalar's dims as [] or [0]
    shape = () if dims == [0] else tuple(dims)
    need = math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize
    if need != len(proto.tensor_content):
        raise ValueError(
            f'{path}: tensor {tag!r} ({dtype}, shape {list(shape)}) needs '
            f'{need} bytes, the file holds {len(proto.tensor_content)}; the '
            'file is damaged')
    return MindSporeTensor(tag, shape, dtype, proto.tensor_content)


def to_torch(tensor):
    """A :class:`MindSporeTensor` as a torch tensor (a copy)."""
    array = np.frombuffer(tensor.data, _DTYPES[tensor.dtype])
    out = torch.from_numpy(array.astype(array.dtype.newbyteorder('=')))
    if tensor.dtype == 'BFloat16':
        out = out.view(torch.bfloat16)
    return out.reshape(tensor.shape)
