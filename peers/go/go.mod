module c10k-lab/peers/go

go 1.19
