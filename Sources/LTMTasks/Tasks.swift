// Placeholder: task specs, readers, detokenizers and block protocols are implemented here (see issue 2).
