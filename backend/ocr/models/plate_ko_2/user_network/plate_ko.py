"""SpeedCam's plate recogniser, in EasyOCR's custom-network format.

EasyOCR imports this file by name from `user_network_directory` and builds
`Model(num_class=len(character_list) + 1, **network_params)`; `forward(image, text)`
takes [B, 1, imgH, W] in [-1, 1] and returns [B, T, num_class] for CTC decoding.
The layout is EasyOCR's generation-2 recogniser (VGG features, two BiLSTMs, a linear
head), narrowed to 64 channels, with batch normalisation after every convolution and a
residual connection around the BiLSTMs; both make it train fast on a CPU.
"""

import torch.nn as nn


class BidirectionalLSTM(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(hidden_size * 2, output_size)

    def forward(self, x):
        self.rnn.flatten_parameters()
        recurrent, _ = self.rnn(x)
        return self.linear(recurrent)


def _conv(in_channels, out_channels, kernel=3, padding=1):
    return [
        nn.Conv2d(in_channels, out_channels, kernel, 1, padding, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(True),
    ]


class Model(nn.Module):
    def __init__(self, input_channel=1, output_channel=64, hidden_size=64, num_class=51):
        super().__init__()
        c = [output_channel // 8, output_channel // 4, output_channel // 2, output_channel]
        self.FeatureExtraction = nn.Sequential(
            *_conv(input_channel, c[0]),
            nn.MaxPool2d(2, 2),
            *_conv(c[0], c[1]),
            nn.MaxPool2d(2, 2),
            *_conv(c[1], c[2]),
            *_conv(c[2], c[2]),
            nn.MaxPool2d((2, 1), (2, 1)),
            *_conv(c[2], c[3]),
            *_conv(c[3], c[3]),
            nn.MaxPool2d((2, 1), (2, 1)),
            *_conv(c[3], c[3], kernel=2, padding=0),
        )
        self.AdaptiveAvgPool = nn.AdaptiveAvgPool2d((None, 1))
        self.SequenceModeling = nn.Sequential(
            BidirectionalLSTM(output_channel, hidden_size, hidden_size),
            BidirectionalLSTM(hidden_size, hidden_size, hidden_size),
        )
        self.Prediction = nn.Linear(hidden_size, num_class)

    def forward(self, input, text=None):
        features = self.FeatureExtraction(input)  # [B, C, 1, T]
        features = self.AdaptiveAvgPool(features.permute(0, 3, 1, 2)).squeeze(3)  # [B, T, C]
        # Residual around the LSTMs: the convolutional features reach the CTC head directly,
        # so training leaves CTC's all-blank plateau within minutes instead of tens of them.
        return self.Prediction((features + self.SequenceModeling(features)).contiguous())
