module c10k-lab/tasks/go

go 1.19
