"""Layer analysis: what is installed in an image, read from its layer blobs.

`analyze_layer` reads one layer blob (gzip, zstd or plain tar) once, as a stream, and returns
a JSON-serialisable `LayerAnalysis` that callers cache per layer digest (with
`ANALYZER_VERSION`); `merge_layers` combines an image's analyses, base layer first, into an
`Inventory` (portside.domain.inventory). This package depends on `portside.domain` only.
"""

from portside.analysis.layers import analyze_layer
from portside.analysis.merge import merge_layers
from portside.analysis.model import (
    ANALYZER_VERSION,
    DEFAULT_LIMITS,
    LayerAnalysis,
    LayerRejected,
    Limits,
    SourceResult,
)

__all__ = ["ANALYZER_VERSION", "DEFAULT_LIMITS", "LayerAnalysis", "LayerRejected", "Limits", "SourceResult",
           "analyze_layer", "merge_layers"]
