#!/usr/bin/env python3
"""CleanRL-style PPO (continuous actions, Gaussian policy, plain torch) on
Siren's C++ vector env, in one file.

After CleanRL's ppo_continuous_action.py: GAE, clipped surrogate and value
losses, minibatch epochs, advantage normalisation, a state-independent
log-std. The vector env runs in same-step auto-reset mode; episodes cut by
job.max_epochs (truncated) bootstrap from the value of their final
observation. Then evaluates the deterministic policy (the Gaussian mean), a
uniform random policy and a fixed configuration (20 functions x 2048 MB) on
the same held-out seeds and prints each one's mean episode return, and the
best static configuration of a small grid searched on those same seeds (an
optimistic bound for fixed schedules; see siren.policy_eval):

    .venv/bin/python experiments/train_cleanrl_ppo.py --total-timesteps 100000 --num-envs 8

A few minutes on 2 cores with the defaults.
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.distributions.normal import Normal

from siren.envs import SirenEnv
from siren.policy_eval import add_training_arguments, print_comparison
from siren.vector import SirenVectorEnv


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_training_arguments(p)
    p.add_argument("--num-steps", type=int, default=128, help="steps per env per rollout")
    p.add_argument("--learning-rate", type=float, default=3e-4)
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--gae-lambda", type=float, default=0.95)
    p.add_argument("--num-minibatches", type=int, default=4)
    p.add_argument("--update-epochs", type=int, default=10)
    p.add_argument("--clip-coef", type=float, default=0.2)
    p.add_argument("--ent-coef", type=float, default=0.0)
    p.add_argument("--vf-coef", type=float, default=0.5)
    p.add_argument("--max-grad-norm", type=float, default=0.5)
    return p.parse_args()


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int) -> None:
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 1), std=1.0),
        )  # fmt: skip
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, act_dim), std=0.01),
        )  # fmt: skip
        self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim))

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        mean = self.actor_mean(x)
        std = torch.exp(self.actor_logstd.expand_as(mean))
        dist = Normal(mean, std)
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action).sum(1), dist.entropy().sum(1), self.critic(x)


# Called with the agent and the env steps taken so far, before the first
# step (0) and after every step of the vector env; returns True to stop
# training there. Its own time is part of train()'s wall time: a caller that
# evaluates the agent in it subtracts that time itself.
StepWatch = Callable[[Agent, int], bool]


def train(args: argparse.Namespace, watch: StepWatch | None = None,
          num_threads: int | None = None) -> tuple[Agent, float, int]:
    """Trains for args.total_timesteps env steps, or until `watch` returns
    True. Returns the agent, the wall time and the env steps taken."""
    envs = SirenVectorEnv(args.num_envs, scenario=args.scenario, autoreset_mode="same_step",
                          num_threads=num_threads)
    obs_dim = envs.single_observation_space.shape[0]
    act_dim = envs.single_action_space.shape[0]
    agent = Agent(obs_dim, act_dim)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    n, t_max = args.num_envs, args.num_steps
    batch_size = n * t_max
    minibatch_size = batch_size // args.num_minibatches
    num_iterations = max(1, args.total_timesteps // batch_size)
    obs_buf = torch.zeros((t_max, n, obs_dim))
    act_buf = torch.zeros((t_max, n, act_dim))
    logp_buf = torch.zeros((t_max, n))
    rew_buf = torch.zeros((t_max, n))
    done_buf = torch.zeros((t_max, n))
    val_buf = torch.zeros((t_max, n))

    next_obs_np, _ = envs.reset(seed=args.seed)
    next_obs = torch.as_tensor(next_obs_np)
    next_done = torch.zeros(n)
    recent_returns: list[float] = []
    start = time.perf_counter()
    if watch is not None and watch(agent, 0):
        envs.close()
        return agent, time.perf_counter() - start, 0
    for iteration in range(1, num_iterations + 1):
        optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1) / num_iterations) * args.learning_rate
        for step in range(t_max):
            obs_buf[step], done_buf[step] = next_obs, next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
            val_buf[step], act_buf[step], logp_buf[step] = value.flatten(), action, logprob
            next_obs_np, reward, terminated, truncated, infos = envs.step(action.numpy())
            reward = torch.as_tensor(reward, dtype=torch.float32)
            if "final_obs" in infos:
                ended = np.flatnonzero(infos["_final_obs"])
                # Truncated (epoch limit, not a real end): bootstrap from V(final obs).
                cut = [i for i in ended if truncated[i] and not terminated[i]]
                if cut:
                    final = torch.as_tensor(np.stack([infos["final_obs"][i] for i in cut]))
                    with torch.no_grad():
                        reward[cut] += args.gamma * agent.get_value(final).flatten()
                recent_returns.extend(infos["final_info"]["episode_return"][ended].tolist())
            steps_taken = ((iteration - 1) * t_max + step + 1) * n
            if watch is not None and watch(agent, steps_taken):
                envs.close()
                return agent, time.perf_counter() - start, steps_taken
            rew_buf[step] = reward
            next_obs = torch.as_tensor(next_obs_np)
            next_done = torch.as_tensor(np.logical_or(terminated, truncated), dtype=torch.float32)

        # GAE over the rollout.
        with torch.no_grad():
            next_value = agent.get_value(next_obs).flatten()
            advantages = torch.zeros_like(rew_buf)
            last_gae = torch.zeros(n)
            for t in reversed(range(t_max)):
                if t == t_max - 1:
                    next_non_terminal, next_values = 1.0 - next_done, next_value
                else:
                    next_non_terminal, next_values = 1.0 - done_buf[t + 1], val_buf[t + 1]
                delta = rew_buf[t] + args.gamma * next_values * next_non_terminal - val_buf[t]
                last_gae = delta + args.gamma * args.gae_lambda * next_non_terminal * last_gae
                advantages[t] = last_gae
            returns = advantages + val_buf

        b_obs, b_act = obs_buf.reshape(-1, obs_dim), act_buf.reshape(-1, act_dim)
        b_logp, b_adv = logp_buf.reshape(-1), advantages.reshape(-1)
        b_ret, b_val = returns.reshape(-1), val_buf.reshape(-1)
        indices = np.arange(batch_size)
        for _ in range(args.update_epochs):
            np.random.shuffle(indices)
            for begin in range(0, batch_size, minibatch_size):
                mb = indices[begin:begin + minibatch_size]
                _, new_logp, entropy, new_value = agent.get_action_and_value(b_obs[mb], b_act[mb])
                ratio = (new_logp - b_logp[mb]).exp()
                mb_adv = b_adv[mb]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(-mb_adv * ratio,
                                    -mb_adv * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)).mean()
                new_value = new_value.view(-1)
                v_clipped = b_val[mb] + torch.clamp(new_value - b_val[mb], -args.clip_coef, args.clip_coef)
                v_loss = 0.5 * torch.max((new_value - b_ret[mb]) ** 2, (v_clipped - b_ret[mb]) ** 2).mean()
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
        if iteration % max(1, num_iterations // 5) == 0 and recent_returns:
            print(f"iteration {iteration}/{num_iterations}: steps={iteration * batch_size} "
                  f"mean_return(last 50 episodes)={np.mean(recent_returns[-50:]):.4f}")
    envs.close()
    return agent, time.perf_counter() - start, num_iterations * batch_size


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)  # a 64x64 MLP gains nothing from more; the env threads use the cores
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    agent, train_s, steps = train(args)
    print(f"trained PPO (CleanRL-style) for {steps} steps in {train_s:.1f} s "
          f"({steps / train_s:.0f} steps/s), scenario={args.scenario}")

    def ppo_policy(obs: np.ndarray, env: SirenEnv) -> np.ndarray:
        with torch.no_grad():
            mean = agent.actor_mean(torch.as_tensor(obs).unsqueeze(0))[0].numpy()
        return np.clip(mean, -1.0, 1.0)

    print_comparison(ppo_policy, args.scenario, args.eval_episodes)


if __name__ == "__main__":
    main()
