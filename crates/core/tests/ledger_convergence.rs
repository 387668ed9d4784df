//! Property: for random server histories and random client schedules (subscriptions that drop,
//! lose their tail or deliver late, snapshot pages read while the world changes, duplicated and
//! reordered rows, entities that move between pages, model deletions, absence sweeps), a client
//! that applies exactly what the ledger accepts converges to the server's final state after one
//! clean sync cycle, and never replaces a state with an older one whose version differs.

use std::collections::{HashMap, HashSet};

use dojo_reactive_core::{Decision, Felt, Ledger, ModelId, Observation, Primitive, Source};
use proptest::prelude::*;

const MODELS: usize = 3;
/// Model 0 has a game-defined version member.
const GAME_MODEL: usize = 0;

#[derive(Debug, Clone)]
struct OpSpec {
    entity: u8,
    model: u8,
    delete: bool,
    exec_step: u8,
    upd_step: u8,
    game_step: u8,
}

#[derive(Debug, Clone, Copy)]
struct Op {
    key: (usize, usize),
    delete: bool,
    exec: u64,
    upd: u64,
    game: Option<u64>,
}

fn build_ops(specs: &[OpSpec], entities: usize) -> Vec<Op> {
    let (mut exec, mut upd) = (1_000u64, 2_000u64);
    let mut games: HashMap<(usize, usize), u64> = HashMap::new();
    specs
        .iter()
        .map(|s| {
            // Timestamps only move forward; steps of 0 make same-second ties common.
            exec += u64::from(s.exec_step % 3 == 0);
            upd += u64::from(s.upd_step % 3 == 0);
            let key = (
                usize::from(s.entity) % entities,
                usize::from(s.model) % MODELS,
            );
            let game = if key.1 == GAME_MODEL && !s.delete {
                let g = games.entry(key).or_insert(0);
                *g += u64::from(s.game_step % 3);
                Some(*g)
            } else {
                None
            };
            Op {
                key,
                delete: s.delete,
                exec,
                upd,
                game,
            }
        })
        .collect()
}

/// Choices read from a proptest-generated tape (shrinks towards simple schedules).
struct Tape {
    bytes: Vec<u8>,
    pos: usize,
}

impl Tape {
    fn next(&mut self) -> u8 {
        // Past the end, a fixed varied sequence keeps every loop making progress.
        let b = self
            .bytes
            .get(self.pos)
            .copied()
            .unwrap_or((self.pos.wrapping_mul(37) % 251) as u8);
        self.pos += 1;
        b
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::from(self.next()) % n
        }
    }
    fn chance(&mut self, percent: u8) -> bool {
        self.next() % 100 < percent
    }
}

struct Stream {
    epoch: u32,
    end: Option<usize>,
    lost_from: Option<usize>,
    next: usize,
    seq: u64,
}

impl Stream {
    fn deliverable(&self, committed: usize) -> bool {
        self.next < committed
            && self.end.is_none_or(|e| self.next < e)
            && self.lost_from.is_none_or(|l| self.next < l)
    }
}

struct Cycle {
    epoch: u32,
    start: usize,
    pages: Vec<Vec<usize>>,
    next_page: usize,
    deferred: HashSet<usize>,
    pending_rows: usize,
    seen: HashSet<(usize, usize)>,
    /// Read commit and page number where each entity's page was read.
    read_at: HashMap<usize, (usize, u64)>,
    last_page: u64,
    swept: bool,
}

impl Cycle {
    fn complete(&self) -> bool {
        self.next_page >= self.pages.len()
    }
}

#[derive(Debug, Clone, Copy)]
struct Row {
    cycle: usize,
    epoch: u32,
    page: u64,
    key: (usize, usize),
    commit: usize,
    exec: u64,
    upd: u64,
    game: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
enum Pick {
    Stream(usize),
    Row(usize),
    Sweep(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Held {
    State {
        present: bool,
        commit: usize,
        game: Option<u64>,
        exec: u64,
        upd: u64,
    },
    Absent {
        read: usize,
    },
}

struct Sim<'a> {
    ops: &'a [Op],
    entities: usize,
    committed: usize,
    ledger: Ledger,
    models: Vec<ModelId>,
    store: HashMap<(usize, usize), Held>,
    streams: Vec<Stream>,
    live: Option<usize>,
    cycles: Vec<Cycle>,
    rows: Vec<Row>,
    pages: HashMap<u32, u64>,
    observations: u64,
    trace: Vec<String>,
}

fn id(entity: usize) -> Felt {
    Felt::from(entity as u128 + 1)
}

fn cmp_version(a: (Option<u64>, u64, u64), b: (Option<u64>, u64, u64)) -> std::cmp::Ordering {
    if let (Some(x), Some(y)) = (a.0, b.0) {
        if x != y {
            return x.cmp(&y);
        }
    }
    (a.1, a.2).cmp(&(b.1, b.2))
}

impl<'a> Sim<'a> {
    fn new(ops: &'a [Op], entities: usize) -> Self {
        let mut ledger = Ledger::new();
        let models = (0..MODELS)
            .map(|m| {
                let tag = format!("ns-M{m}");
                if m == GAME_MODEL {
                    ledger.set_version_member(&tag, Some("version"))
                } else {
                    ledger.model_id(&tag)
                }
            })
            .collect();
        Sim {
            ops,
            entities,
            committed: 0,
            ledger,
            models,
            store: HashMap::new(),
            streams: Vec::new(),
            live: None,
            cycles: Vec::new(),
            rows: Vec::new(),
            pages: HashMap::new(),
            observations: 0,
            trace: Vec::new(),
        }
    }

    fn commit(&mut self) {
        self.committed = (self.committed + 1).min(self.ops.len());
    }

    /// The state of a key after the first `r` ops: (last op index, deleted).
    fn state_at(&self, key: (usize, usize), r: usize) -> Option<(usize, bool)> {
        self.ops[..r]
            .iter()
            .enumerate()
            .rev()
            .find(|(_, op)| op.key == key)
            .map(|(i, op)| (i, op.delete))
    }

    fn entity_ts(&self, entity: usize, r: usize) -> (u64, u64) {
        self.ops[..r]
            .iter()
            .rev()
            .find(|op| op.key.0 == entity)
            .map_or((0, 0), |op| (op.exec, op.upd))
    }

    fn end_live(&mut self, tape: &mut Tape) {
        if let Some(live) = self.live.take() {
            let committed = self.committed;
            let stream = &mut self.streams[live];
            stream.end = Some(committed);
            if tape.chance(50) {
                let undelivered = committed.saturating_sub(stream.next);
                stream.lost_from = Some(stream.next + tape.below(undelivered + 1));
            }
        }
    }

    fn subscribe(&mut self, tape: &mut Tape) {
        self.end_live(tape);
        self.trace.push(format!("@{} subscribe", self.committed));
        let epoch = self.ledger.begin_epoch();
        self.streams.push(Stream {
            epoch,
            end: None,
            lost_from: None,
            next: self.committed,
            seq: 0,
        });
        self.live = Some(self.streams.len() - 1);
    }

    fn start_cycle(&mut self, tape: &mut Tape) {
        let epoch = self
            .live
            .map_or(self.ledger.current_epoch(), |l| self.streams[l].epoch);
        let page_count = 1 + tape.below(3);
        let mut pages = vec![Vec::new(); page_count];
        for entity in 0..self.entities {
            pages[tape.below(page_count)].push(entity);
        }
        self.cycles.push(Cycle {
            epoch,
            start: self.committed,
            pages,
            next_page: 0,
            deferred: HashSet::new(),
            pending_rows: 0,
            seen: HashSet::new(),
            read_at: HashMap::new(),
            last_page: 0,
            swept: false,
        });
    }

    fn read_page(&mut self, cycle: usize, tape: &mut Tape) {
        let r = self.committed;
        self.trace.push(format!("@{r} read page of cycle {cycle}"));
        let c = &self.cycles[cycle];
        if c.complete() {
            return;
        }
        let entities = c.pages[c.next_page].clone();
        let (epoch, start) = (c.epoch, c.start);
        let page = {
            let counter = self.pages.entry(epoch).or_insert(0);
            *counter += 1;
            *counter
        };
        let mut deferred = Vec::new();
        let mut rows = Vec::new();
        let mut seen = Vec::new();
        let mut read_at = Vec::new();
        for entity in entities {
            // An entity updated since the cycle began moved to the front (Torii orders pages
            // by event id): this page misses it and a fix-up read fetches it later.
            let moved = self.ops[start.min(r)..r]
                .iter()
                .any(|op| op.key.0 == entity);
            if moved && !self.cycles[cycle].deferred.contains(&entity) && tape.chance(40) {
                deferred.push(entity);
                continue;
            }
            read_at.push((entity, (r, page)));
            let (exec, upd) = self.entity_ts(entity, r);
            for model in 0..MODELS {
                if let Some((i, false)) = self.state_at((entity, model), r) {
                    seen.push((entity, model));
                    let row = Row {
                        cycle,
                        epoch,
                        page,
                        key: (entity, model),
                        commit: i,
                        exec,
                        upd,
                        game: self.ops[i].game,
                    };
                    rows.push(row);
                    if tape.chance(15) {
                        rows.push(row);
                    }
                }
            }
        }
        let c = &mut self.cycles[cycle];
        c.next_page += 1;
        c.last_page = page;
        if !deferred.is_empty() {
            c.deferred.extend(deferred.iter().copied());
            c.pages.push(deferred);
        }
        c.seen.extend(seen);
        c.read_at.extend(read_at);
        c.pending_rows += rows.len();
        self.rows.extend(rows);
    }

    fn apply(&mut self, key: (usize, usize), decision: Decision, incoming: Held) {
        self.observations += 1;
        self.trace.push(format!(
            "@{} {key:?} {incoming:?} -> {decision:?} (ledger {:?})",
            self.committed,
            self.ledger.get(&id(key.0), self.models[key.1])
        ));
        if !decision.applies() {
            return;
        }
        let prev = self.store.get(&key).copied();
        match (prev, incoming) {
            (
                Some(Held::State {
                    commit: held_commit,
                    game: hg,
                    exec: he,
                    upd: hu,
                    ..
                }),
                Held::State {
                    commit,
                    game,
                    exec,
                    upd,
                    ..
                },
            ) if commit < held_commit => {
                assert_eq!(
                    cmp_version((game, exec, upd), (hg, he, hu)),
                    std::cmp::Ordering::Equal,
                    "older state (op {commit}) replaced newer (op {held_commit}) with a different version"
                );
            }
            (Some(Held::State { commit, .. }), Held::Absent { read }) => {
                assert!(commit < read, "absence read at {read} replaced op {commit}");
            }
            _ => {}
        }
        self.store.insert(key, incoming);
    }

    fn deliver_stream(&mut self, index: usize, tape: &mut Tape) {
        let committed = self.committed;
        let stream = &mut self.streams[index];
        if !stream.deliverable(committed) {
            return;
        }
        let op = self.ops[stream.next];
        let source = Source::Stream {
            epoch: stream.epoch,
            seq: stream.seq,
        };
        let commit = stream.next;
        let duplicate = tape.chance(10);
        if !duplicate {
            stream.next += 1;
            stream.seq += 1;
        }
        let obs = if op.delete {
            Observation::deletion(source, op.exec, op.upd)
        } else {
            let obs = Observation::write(source, op.exec, op.upd);
            match op.game {
                Some(g) => obs.with_game(Primitive::U64(g)),
                None => obs,
            }
        };
        let model = self.models[op.key.1];
        let decision = self.ledger.observe(&id(op.key.0), model, &obs);
        if duplicate {
            // Delivered again below with the same seq: must then be a duplicate.
            let again = self.ledger.observe(&id(op.key.0), model, &obs);
            assert!(
                !again.applies(),
                "same stream message applied twice: {again:?}"
            );
            self.observations += 1;
            let stream = &mut self.streams[index];
            stream.next += 1;
            stream.seq += 1;
        }
        self.apply(
            op.key,
            decision,
            Held::State {
                present: !op.delete,
                commit,
                game: op.game,
                exec: op.exec,
                upd: op.upd,
            },
        );
    }

    fn deliver_row(&mut self, index: usize) {
        let row = self.rows.swap_remove(index);
        self.cycles[row.cycle].pending_rows -= 1;
        let mut obs = Observation::write(
            Source::Snapshot {
                epoch: row.epoch,
                page: row.page,
            },
            row.exec,
            row.upd,
        );
        if let Some(g) = row.game {
            obs = obs.with_game(Primitive::U64(g));
        }
        let decision = self
            .ledger
            .observe(&id(row.key.0), self.models[row.key.1], &obs);
        self.apply(
            row.key,
            decision,
            Held::State {
                present: true,
                commit: row.commit,
                game: row.game,
                exec: row.exec,
                upd: row.upd,
            },
        );
    }

    /// After every row of a complete cycle was observed: the ledger marks what the snapshot did
    /// not contain absent, and the client deletes what it says.
    fn sweep(&mut self, cycle: usize) {
        let c = &self.cycles[cycle];
        if c.swept || !c.complete() || c.pending_rows > 0 {
            return;
        }
        let (epoch, page) = (c.epoch, c.last_page);
        let seen = c.seen.clone();
        let read_at = c.read_at.clone();
        self.cycles[cycle].swept = true;
        self.trace
            .push(format!("@{} sweep cycle {cycle}", self.committed));
        let entity_of: HashMap<Felt, usize> = (0..self.entities).map(|e| (id(e), e)).collect();
        for m in 0..MODELS {
            let model = self.models[m];
            let unseen = self
                .ledger
                .entities(model)
                .filter(|e| !seen.contains(&(entity_of[*e], m)))
                .count();
            self.observations += unseen as u64;
            let deleted = self
                .ledger
                .complete_snapshot(model, epoch, page, |e| seen.contains(&(entity_of[e], m)));
            for e in deleted {
                let entity = entity_of[&e];
                let read = read_at.get(&entity).map_or(0, |r| r.0);
                if let Some(Held::State { commit, .. }) = self.store.get(&(entity, m)) {
                    assert!(
                        *commit < read,
                        "absence read at {read} replaced op {commit}"
                    );
                }
                self.trace
                    .push(format!("  absent ({entity}, {m}) read at {read}"));
                self.store.insert((entity, m), Held::Absent { read });
            }
        }
    }

    /// Delivers one pending thing chosen by the tape; false when nothing was pending.
    fn deliver_any(&mut self, tape: &mut Tape) -> bool {
        let mut choices = Vec::new();
        for (i, s) in self.streams.iter().enumerate() {
            if s.deliverable(self.committed) {
                choices.push(Pick::Stream(i));
            }
        }
        for i in 0..self.rows.len() {
            choices.push(Pick::Row(i));
        }
        for (i, c) in self.cycles.iter().enumerate() {
            if !c.swept && c.complete() && c.pending_rows == 0 {
                choices.push(Pick::Sweep(i));
            }
        }
        if choices.is_empty() {
            return false;
        }
        match choices[tape.below(choices.len())] {
            Pick::Stream(i) => self.deliver_stream(i, tape),
            Pick::Row(i) => self.deliver_row(i),
            Pick::Sweep(i) => self.sweep(i),
        }
        true
    }

    fn run(&mut self, tape: &mut Tape) {
        // Chaos: anything goes, including snapshots without a live subscription.
        let steps = 10 + tape.below(80);
        for _ in 0..steps {
            match tape.next() % 10 {
                0..=2 => self.commit(),
                3 => self.subscribe(tape),
                4 => self.end_live(tape),
                5 => self.start_cycle(tape),
                6 => {
                    if let Some(c) = self.cycles.len().checked_sub(1) {
                        self.read_page(c, tape);
                    }
                }
                _ => {
                    self.deliver_any(tape);
                }
            }
        }
        // One clean cycle: subscribe (handshake), page the snapshot while the world keeps
        // changing and anything still pending trickles in, then deliver everything.
        self.subscribe(tape);
        self.start_cycle(tape);
        let cycle = self.cycles.len() - 1;
        while !self.cycles[cycle].complete() {
            match tape.next() % 4 {
                0 => self.commit(),
                1 => self.read_page(cycle, tape),
                _ => {
                    self.deliver_any(tape);
                }
            }
        }
        while self.deliver_any(tape) {}
    }

    fn check_converged(&self) {
        for entity in 0..self.entities {
            for model in 0..MODELS {
                let server = self.state_at((entity, model), self.committed);
                let client = self.store.get(&(entity, model));
                let client_present = match client {
                    Some(Held::State {
                        present: true,
                        commit,
                        ..
                    }) => Some(*commit),
                    _ => None,
                };
                let server_present = match server {
                    Some((i, false)) => Some(i),
                    _ => None,
                };
                assert_eq!(
                    client_present,
                    server_present,
                    "entity {entity} model {model}: client {client:?} server {server:?}\n{}",
                    self.trace.join("\n")
                );
            }
        }
        let stats = self.ledger.stats();
        assert_eq!(stats.applied() + stats.stale_dropped(), self.observations);
    }
}

fn op_spec() -> impl Strategy<Value = OpSpec> {
    (
        any::<u8>(),
        any::<u8>(),
        prop::bool::weighted(0.2),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(
            |(entity, model, delete, exec_step, upd_step, game_step)| OpSpec {
                entity,
                model,
                delete,
                exec_step,
                upd_step,
                game_step,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn ledger_converges_and_never_regresses(
        entities in 1usize..5,
        specs in prop::collection::vec(op_spec(), 0..40),
        tape in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let ops = build_ops(&specs, entities);
        let mut sim = Sim::new(&ops, entities);
        let mut tape = Tape { bytes: tape, pos: 0 };
        sim.run(&mut tape);
        sim.check_converged();
    }
}
