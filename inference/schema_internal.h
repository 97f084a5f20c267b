// Private to inference/: the flatc-generated accessors for our TFLite subset
// schema. Public headers never include this; FlatBuffers stays an
// implementation detail of the loader and the operator glue.
#ifndef TRIAGE_INFERENCE_SCHEMA_INTERNAL_H_
#define TRIAGE_INFERENCE_SCHEMA_INTERNAL_H_

#include "inference/schema/tflite_subset_generated.h"

#endif  // TRIAGE_INFERENCE_SCHEMA_INTERNAL_H_
