// badaction: valid JSON, but a PlayAudio without AudioSource.Key.
#include "ms.h"
MS_ABI_V1
MS_EXPORT("handle_event") int32_t handle_event(int32_t len) {
	return ms_respond("{\"SchemaVersion\":\"1.0\",\"Actions\":[{\"Type\":\"PlayAudio\",\"Parameters\":"
		"{\"ParticipantTag\":\"LEG-A\",\"AudioSource\":{\"Type\":\"S3\",\"BucketName\":\"prompts\"}}}]}");
}
