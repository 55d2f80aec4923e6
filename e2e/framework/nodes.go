package framework

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Node labels the framework sets.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelZone     = "topology.kubernetes.io/zone"
)

// nodeObject is the Node API object of a simulated node.
func nodeObject(n *Node) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   n.Name,
			Labels: map[string]string{LabelHostname: n.Name, LabelZone: n.Zone},
		},
		Spec: corev1.NodeSpec{PodCIDR: n.PodCIDR.String(), PodCIDRs: []string{n.PodCIDR.String()}},
		Status: corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: n.IP.String()},
				{Type: corev1.NodeHostName, Address: n.Name},
			},
			Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeReady, Status: corev1.ConditionTrue,
				Reason: "KProxyE2E", Message: "simulated node", LastHeartbeatTime: metav1.Now(),
			}},
		},
	}
}

// registerNodes creates the Node objects. The apiserver may drop status on
// create, so it is written again through the status subresource.
func (c *Cluster) registerNodes(ctx context.Context) error {
	for _, n := range c.Nodes {
		want := nodeObject(n)
		got, err := c.Kube.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create node %s: %w", n.Name, err)
		}
		if len(got.Status.Addresses) == 0 {
			got.Status = want.Status
			if _, err := c.Kube.CoreV1().Nodes().UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("node %s status: %w", n.Name, err)
			}
		}
	}
	return nil
}
