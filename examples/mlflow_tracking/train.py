# A script as MLflow's docs write them: params, a metric per epoch, the model as an artifact. Nothing
# in it knows about Skiff or where the tracking server is. On a cluster made with
# `skiff up --with mlflow` it records into the job's own experiment; `skiff describe JOB` lists the
# run and `skiff ui mlflow` shows it.
import mlflow
import torch

torch.manual_seed(0)
x = torch.randn(256, 4)
y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1 * torch.randn(256)
model = torch.nn.Linear(4, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)

with mlflow.start_run():
    mlflow.log_params({"lr": 0.1, "epochs": 20})
    for epoch in range(20):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x).squeeze(1), y)
        loss.backward()
        opt.step()
        mlflow.log_metric("loss", loss.item(), step=epoch)
    print(f"final loss {loss.item():.4f}")
    torch.save(model.state_dict(), "model.pt")
    mlflow.log_artifact("model.pt")
