//! The seed's game logic, in Rust: the same C ABI, state struct and hooks as
//! `native/c/game.c`. It uses `println!` and a `thread_local!` with a destructor on
//! purpose: loaded and unloaded on Node's main thread, such a library is never unmapped
//! by glibc (the seed's leak and crash at exit); isoswap loads it in a worker thread and
//! sweeps the loader after that thread ends.
//!
//!     SPEED=3 cargo build --release   # target/release/libisoswap_game.so

use std::cell::RefCell;
use std::ptr::{addr_of_mut, null_mut};
use std::sync::atomic::{AtomicPtr, Ordering};

/// Set at build time (`SPEED=3 cargo build`): a rebuilt version is visibly different.
const SPEED: i32 = match option_env!("SPEED") {
    None => 1,
    Some(text) => match i32::from_str_radix(text, 10) {
        Ok(speed) => speed,
        Err(_) => panic!("SPEED must be an integer"),
    },
};

const GAME_MAGIC: u32 = 0x454d_4147; // "GAME": the block was initialised by some version
const GAME_LAYOUT: u32 = 1; // bump when the struct changes shape

/// All the game's globals, laid out exactly as the C example's `struct game_state`:
/// the layout is the contract between versions (and with the host, which reads these
/// fields from `host.state`), so only ever append fields.
#[repr(C)]
pub struct GameState {
    magic: u32,
    layout: u32,
    ticks: i32,
    score: i32,
    x: i32,
    speed: i32,
    loads: i32,
    unloads: i32,
}

/// Without a host-owned block (no isoswap_load call), the game still runs, on this.
static mut FALLBACK: GameState = GameState {
    magic: GAME_MAGIC,
    layout: GAME_LAYOUT,
    ticks: 0,
    score: 0,
    x: 0,
    speed: 0,
    loads: 0,
    unloads: 0,
};

/// The block in use; null means FALLBACK. Atomic because hooks and ticks may run on
/// different threads of the same version.
static GAME: AtomicPtr<GameState> = AtomicPtr::new(null_mut());

thread_local! {
    /// Ticks run on this thread and the last line printed. A `String` needs a
    /// destructor, which is what keeps glibc from unmapping a library (docs/architecture.md).
    static THIS_THREAD: RefCell<(u64, String)> = RefCell::new((0, String::new()));
}

fn game() -> *mut GameState {
    let game = GAME.load(Ordering::Acquire);
    if game.is_null() {
        addr_of_mut!(FALLBACK)
    } else {
        game
    }
}

/// Adopts the host's state block: initialises it on the first load, refuses a block
/// too small (1) or written by an incompatible layout (2).
///
/// # Safety
/// `state` is null or points at `bytes` writable bytes that outlive this version.
#[no_mangle]
pub unsafe extern "C" fn isoswap_load(state: *mut u8, bytes: u32) -> i32 {
    if state.is_null() {
        return 0; // the host has no state block: keep the private one
    }
    if (bytes as usize) < std::mem::size_of::<GameState>() {
        return 1;
    }
    let s = state as *mut GameState;
    if (*s).magic != GAME_MAGIC {
        std::ptr::write_bytes(s, 0, 1); // the first version: a new game
        (*s).magic = GAME_MAGIC;
        (*s).layout = GAME_LAYOUT;
    } else if (*s).layout != GAME_LAYOUT {
        return 2;
    }
    (*s).loads += 1;
    GAME.store(s, Ordering::Release);
    0
}

/// Lets go of the block: it is never touched again by this version.
///
/// # Safety
/// `state` is the pointer `isoswap_load` was given, or null.
#[no_mangle]
pub unsafe extern "C" fn isoswap_unload(state: *mut u8, _bytes: u32) {
    let current = GAME.swap(null_mut(), Ordering::AcqRel);
    if !current.is_null() && current as *mut u8 == state {
        (*current).unloads += 1;
    }
}

/// One step of the game; returns the score.
#[no_mangle]
pub extern "C" fn do_tick(dt: i32) -> i32 {
    // SAFETY: the host runs one call at a time against the block (no two
    // versions touch it at once), and FALLBACK is only used without a host block.
    let game = unsafe { &mut *game() };
    game.ticks += 1;
    game.speed = SPEED;
    game.x += SPEED * dt;
    game.score += SPEED;
    THIS_THREAD.with(|this| {
        let mut this = this.borrow_mut();
        this.0 += 1;
        if this.0 == 1 {
            this.1 = format!("[rust] speed {SPEED}: first tick on this thread (game tick {})", game.ticks);
            println!("{}", this.1);
        }
    });
    game.score
}
