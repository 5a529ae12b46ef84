//! A one-validator devnet in this process, and a cooperative with an approved task on it.

use std::sync::mpsc;
use std::time::Duration;

use counterweight_coop::{
    Admission, COOP_MODULE, Consent, CoopCall, ModuleCall as _, ProposalKind, Rules,
};
use counterweight_crypto::SigningKey;
use counterweight_learn::LearnCall;
use counterweight_node::testnet::dev_account;
use counterweight_node::{Home, NodeConfig, keys, service};
use counterweight_rpc_api::{Client, ReceiptView};
use counterweight_train::Dataset;
use counterweight_types::{Address, Call, ChainId, Genesis, GenesisAccount, Hash, Params};
use counterweight_worker::{Sender, SpecBuilder};

/// A devnet node running on its own thread, stopped when dropped.
pub(crate) struct Devnet {
    pub(crate) rpc: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<counterweight_node::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Devnet {
    /// Starts a chain whose genesis funds `accounts` dev accounts.
    pub(crate) fn start(accounts: u64) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = Home::new(dir.path().to_path_buf());
        let validator = keys::generate();
        let genesis = Genesis {
            chain_id: ChainId::new("worker-test").expect("valid"),
            genesis_time_ms: 0,
            validators: vec![Address(keys::public_key_bytes(&keys::public_key(
                &validator,
            )))],
            accounts: (0..accounts)
                .map(|i| GenesisAccount {
                    address: dev_account(i).address(),
                    balance: 1_000_000_000,
                })
                .collect(),
            params: Params::default(),
        };
        home.write_genesis(&genesis).expect("genesis");
        keys::write_private_key(&home.validator_key(), &validator).expect("validator key");
        home.create_dirs().expect("dirs");
        let mut config = NodeConfig::default();
        config.rpc.listen = ([127, 0, 0, 1], 0).into();
        config.p2p.listen = ([127, 0, 0, 1], 0).into();
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            service::run_until(
                &home,
                config,
                move |ready| {
                    let _ = ready_tx.send(ready.rpc);
                },
                async move {
                    let _ = stop_rx.await;
                },
            )
        });
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the devnet starts");
        Self {
            rpc: format!("http://{addr}"),
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        }
    }

    pub(crate) fn client(&self) -> Client {
        Client::new(&self.rpc).expect("url")
    }

    pub(crate) fn sender(&self, key: SigningKey) -> Sender {
        Sender::new(self.client(), key).expect("sender")
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(crate) fn attr(receipt: &ReceiptView, kind: &str, key: &str) -> Hash {
    receipt
        .events
        .iter()
        .filter(|e| e.kind == kind)
        .find_map(|e| e.attributes.get(key))
        .unwrap_or_else(|| panic!("no {kind}.{key} in {receipt:?}"))
        .parse()
        .expect("a hash")
}

fn coop(sender: &mut Sender, call: CoopCall) -> ReceiptView {
    sender
        .send_and_wait(Call {
            module: COOP_MODULE,
            payload: call.to_payload(),
        })
        .expect("coop call")
}

/// A two-member cooperative (dev0 founds, dev1 is admitted by vote), each with a dataset,
/// and an approved plain FedAvg task of `rounds` rounds over both; returns the task and the
/// two members' shards. The task is not started.
pub(crate) fn approved_task(devnet: &Devnet, rounds: u32) -> (Hash, Vec<Dataset>) {
    let mut a = devnet.sender(dev_account(0));
    let mut b = devnet.sender(dev_account(1));
    let created = coop(
        &mut a,
        CoopCall::Create {
            name: "worker test".into(),
            rules: Rules {
                quorum_permille: 500,
                approval_permille: 500,
                voting_period_ms: 3_600_000,
                revenue_share_permille: 100,
                admission: Admission::ByVote,
            },
        },
    );
    let coop_id = attr(&created, "coop_created", "coop");
    let joined = coop(
        &mut b,
        CoopCall::Join {
            coop: coop_id,
            credential: None,
        },
    );
    let admit = attr(&joined, "proposal_created", "proposal");
    coop(
        &mut a,
        CoopCall::Vote {
            proposal: admit,
            yes: true,
        },
    );
    coop(&mut b, CoopCall::Execute { proposal: admit });
    let data = Dataset::digits();
    let half = data.labels().len() / 2;
    let shards: Vec<Dataset> = [0..half, half..data.labels().len()]
        .into_iter()
        .map(|r| data.subset(&r.collect::<Vec<_>>()).expect("subset"))
        .collect();
    let mut datasets = Vec::new();
    for (k, (sender, shard)) in [&mut a, &mut b].into_iter().zip(&shards).enumerate() {
        let committed = coop(
            sender,
            CoopCall::CommitDataset {
                coop: coop_id,
                root: Hash([k as u8 + 1; 32]),
                schema: "digits".into(),
                records: shard.labels().len() as u64,
                consent: Consent {
                    training: true,
                    commercial: false,
                    derivatives: true,
                },
            },
        );
        datasets.push(attr(&committed, "dataset_committed", "dataset"));
    }
    let spec = SpecBuilder::new(coop_id, datasets)
        .hidden(vec![16])
        .rounds(rounds)
        .min_clients(2)
        .epochs(1)
        .reward(10_000)
        .build(&data)
        .expect("spec");
    let opened = a
        .send_and_wait(Call {
            module: counterweight_learn::LEARN_MODULE,
            payload: LearnCall::OpenTask {
                spec: Box::new(spec),
            }
            .to_payload(),
        })
        .expect("open task");
    let task = attr(&opened, "task_opened", "task");
    let proposed = coop(
        &mut a,
        CoopCall::Propose {
            coop: coop_id,
            kind: ProposalKind::ApproveTask { task },
        },
    );
    let approve = attr(&proposed, "proposal_created", "proposal");
    coop(
        &mut a,
        CoopCall::Vote {
            proposal: approve,
            yes: true,
        },
    );
    coop(
        &mut b,
        CoopCall::Vote {
            proposal: approve,
            yes: true,
        },
    );
    coop(&mut a, CoopCall::Execute { proposal: approve });
    (task, shards)
}

/// Sends `learn start` for `task` from `key`.
pub(crate) fn start(devnet: &Devnet, key: SigningKey, task: Hash) {
    devnet
        .sender(key)
        .send_and_wait(Call {
            module: counterweight_learn::LEARN_MODULE,
            payload: LearnCall::Start { task }.to_payload(),
        })
        .expect("start");
}
