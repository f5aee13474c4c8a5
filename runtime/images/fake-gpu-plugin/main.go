// Skiff's fake GPUs: a device plugin that the kubelet really registers, lists, allocates and
// releases, built on Kubernetes' own device-plugin stub (the one behind the sample device plugin of
// its e2e tests). It advertises nvidia.com/gpu as NVIDIA's plugin does, so scheduling, the kubelet's
// allocation and checkpoint, and the release when a pod ends are the real ones; only the silicon is
// missing. A container that gets devices is told which in NVIDIA_VISIBLE_DEVICES, as NVIDIA's
// plugin tells its runtime, and in SKIFF_FAKE_GPUS, which says that they are not real.
//
// With --replicas R each GPU is offered R times, as NVIDIA's plugin does under time-slicing: the
// kubelet sees R devices per GPU (IDs <gpu>::<replica>), and the containers given replicas of one
// GPU are all told that GPU.
//
// Usage: fake-gpu-plugin --gpus N [--replicas R] --node NAME
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"k8s.io/klog/v2"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
	stub "k8s.io/kubernetes/pkg/kubelet/cm/devicemanager/plugin/v1beta1"
)

const resourceName = "nvidia.com/gpu"

func main() {
	gpus := flag.Int("gpus", 1, "fake GPUs to advertise on this node")
	replicas := flag.Int("replicas", 1, "devices each GPU is offered as (time-slicing)")
	node := flag.String("node", os.Getenv("NODE_NAME"), "the node's name, part of each device's ID")
	flag.Parse()
	if *gpus < 1 || *gpus > 64 {
		klog.Fatalf("--gpus must be between 1 and 64, not %d", *gpus)
	}
	if *replicas < 1 || *replicas > 16 {
		klog.Fatalf("--replicas must be between 1 and 16, not %d", *replicas)
	}

	var devices []*pluginapi.Device
	for i := 0; i < *gpus; i++ {
		gpu := fmt.Sprintf("GPU-fake-%s-%d", *node, i)
		for r := 0; r < *replicas; r++ {
			id := gpu
			if *replicas > 1 {
				id = fmt.Sprintf("%s::%d", gpu, r)
			}
			devices = append(devices, &pluginapi.Device{ID: id, Health: pluginapi.Healthy})
		}
	}
	socket := filepath.Join(pluginapi.DevicePluginPath, "skiff-fake-gpu.sock")
	plugin := stub.NewDevicePluginStub(devices, socket, resourceName, false, false)
	plugin.SetAllocFunc(allocate)
	if err := plugin.Start(); err != nil {
		klog.Fatalf("serving the device plugin on %s: %v", socket, err)
	}
	if err := plugin.Register(pluginapi.KubeletSocket, resourceName, pluginapi.DevicePluginPath); err != nil {
		klog.Fatalf("registering %s with the kubelet: %v", resourceName, err)
	}
	klog.Infof("advertising %d fake %s on node %s, each as %d device(s)", *gpus, resourceName, *node, *replicas)
	// A kubelet restart forgets every plugin: the stub serves again and registers anew.
	go plugin.Watch(pluginapi.KubeletSocket, resourceName, pluginapi.DevicePluginPath)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	klog.Infof("stopping on %v", <-signals)
	if err := plugin.Stop(); err != nil {
		klog.Fatalf("stopping: %v", err)
	}
}

// allocate answers the kubelet for each container that is given devices: their IDs in the
// variables a GPU job reads, and nothing else (there is no device node to mount).
func allocate(req *pluginapi.AllocateRequest, known map[string]*pluginapi.Device) (*pluginapi.AllocateResponse, error) {
	resp := &pluginapi.AllocateResponse{}
	for _, container := range req.ContainerRequests {
		for _, id := range container.DevicesIds {
			if device, ok := known[id]; !ok || device.Health != pluginapi.Healthy {
				return nil, fmt.Errorf("no healthy fake GPU %q on this node", id)
			}
		}
		// Replicas of one GPU are that GPU: name each GPU once.
		var gpus []string
		seen := map[string]bool{}
		for _, id := range container.DevicesIds {
			gpu, _, _ := strings.Cut(id, "::")
			if !seen[gpu] {
				seen[gpu] = true
				gpus = append(gpus, gpu)
			}
		}
		ids := strings.Join(gpus, ",")
		klog.Infof("allocating %s as %s", strings.Join(container.DevicesIds, ","), ids)
		resp.ContainerResponses = append(resp.ContainerResponses, &pluginapi.ContainerAllocateResponse{
			Envs: map[string]string{"NVIDIA_VISIBLE_DEVICES": ids, "SKIFF_FAKE_GPUS": ids},
		})
	}
	return resp, nil
}
