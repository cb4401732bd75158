package gatehouse_test

import (
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/reflect/protoregistry"

	gatehousev1 "github.com/gatehouse-dev/gatehouse/clients/go/gen/gatehouse/v1"
)

// TestGatehouseAndGoControlPlaneLinkTogether: both packages are linked into this test binary,
// which would panic at start if both registered a proto file under the same path. Each file is
// registered once, by its owner.
func TestGatehouseAndGoControlPlaneLinkTogether(t *testing.T) {
	owners := map[string]string{
		"envoy/service/auth/v3/external_auth.proto": string(authv3.File_envoy_service_auth_v3_external_auth_proto.Path()),
		"gatehouse/v1/gate.proto":                   string(gatehousev1.File_gatehouse_v1_gate_proto.Path()),
	}
	for path, registered := range owners {
		found, err := protoregistry.GlobalFiles.FindFileByPath(path)
		if err != nil || registered != path || found.Path() != path {
			t.Fatalf("%s: registered %q, found %v (%v)", path, registered, found, err)
		}
	}
	// The Envoy service is go-control-plane's, not a copy generated from Gatehouse's subset.
	service, err := protoregistry.GlobalFiles.FindDescriptorByName("envoy.service.auth.v3.Authorization")
	if err != nil || service.ParentFile() != authv3.File_envoy_service_auth_v3_external_auth_proto {
		t.Fatalf("envoy.service.auth.v3.Authorization: %v (%v)", service, err)
	}
}
