"""Gas detection in imaging-spectrometer scenes: covariance, matched filters, ACE, identification."""
