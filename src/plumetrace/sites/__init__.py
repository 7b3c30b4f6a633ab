"""Sites: detections from many scenes, logs and dates fused into candidate emission sites."""
