;; The JSON automaton of json-grammar.ts in WebAssembly, with the bytes inside strings read 16 at a
;; time (SIMD, https://github.com/WebAssembly/simd/blob/main/proposals/simd/SIMD.md). It runs the
;; same transition table, copied into this memory by simd-scan.ts, so it accepts exactly what the
;; JavaScript loop of array-splitter.ts accepts; it hands back every case that loop words an error
;; for, or that needs a look across chunks, at the byte concerned.
;;
;; This is a template: scripts/generate-simd-scan.js replaces each name in double braces with the
;; constant of that name (json-grammar.ts, the registers and status values of simd-scan.ts, or the
;; memory layout in the script), compiles it with wabt, and writes the binary to
;; src/generated/simd-scan-wasm.ts. A test fails when that file is stale.
;;
;; Memory (one instance, shared by every splitter in the process): the registers (i32s: state, depth, is-key, flags,
;; non-ASCII seen, lines framing, status), the class table (u8 per byte), the transition table
;; (i16 per state and class; a state is its row's offset, a negative entry an action), the stack
;; of open containers (u8, OBJ or ARR), then the chunk being scanned, followed by 16 spare bytes
;; so a 16-byte load at its last byte stays inside the memory.
(module
  (memory (export "memory") {{PAGES}})
  (global (export "regsOffset") i32 (i32.const {{REGS}}))
  (global (export "classOffset") i32 (i32.const {{CLASSES}}))
  (global (export "tableOffset") i32 (i32.const {{TABLE}}))
  (global (export "stackOffset") i32 (i32.const {{STACK}}))
  (global (export "stackCapacity") i32 (i32.const {{STACK_CAPACITY}}))
  (global (export "chunkOffset") i32 (i32.const {{CHUNK}}))
  (global (export "chunkCapacity") i32 (i32.const {{CHUNK_CAPACITY}}))

  ;; Scans chunk bytes [pos, end) (offsets from the chunk's start) from the state in the registers.
  ;; Returns where it stopped and sets the status register:
  ;;   {{DONE}}: the element closed; the result is just past its last byte (depth 0, state OK).
  ;;   {{CHUNK_END}}: the chunk ended inside the element; the result is `end`.
  ;;   {{HAND_BACK}}: the byte at the result needs the JavaScript loop (an error to word, a nesting
  ;;      deeper than the stack, a line break in a row, a key whose first byte is in the next
  ;;      chunk); the registers hold the state before that byte.
  (func (export "scan") (param $pos i32) (param $end i32) (result i32)
    (local $state i32) (local $depth i32) (local $isKey i32) (local $flags i32) (local $nonAscii i32)
    (local $status i32) (local $c i32) (local $next i32) (local $mask i32) (local $v v128)
    (local.set $pos (i32.add (local.get $pos) (i32.const {{CHUNK}})))
    (local.set $end (i32.add (local.get $end) (i32.const {{CHUNK}})))
    (local.set $state (i32.load (i32.const {{REG_STATE}})))
    (local.set $depth (i32.load (i32.const {{REG_DEPTH}})))
    (local.set $isKey (i32.load (i32.const {{REG_IS_KEY}})))
    (local.set $flags (i32.load (i32.const {{REG_FLAGS}})))
    (local.set $nonAscii (i32.load (i32.const {{REG_NON_ASCII}})))
    (block $exit
      (loop $top
        (if (i32.ge_u (local.get $pos) (local.get $end))
          (then (local.set $status (i32.const {{CHUNK_END}})) (br $exit)))
        (if (i32.eq (local.get $state) (i32.const {{ST}}))
          (then
            ;; Inside a string: skip 16 bytes at a time while none is a quote, a backslash, a
            ;; control character or above 0x7f. Past `end` a sentinel bit stops the skip.
            (loop $plain
              (local.set $v (v128.load (local.get $pos)))
              (local.set $mask
                (i8x16.bitmask
                  (v128.or
                    (v128.or
                      (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22)))
                      (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c))))
                    (v128.or
                      (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 0x20)))
                      (i8x16.lt_s (local.get $v) (i8x16.splat (i32.const 0)))))))
              (if (i32.lt_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 16))
                (then
                  (local.set $mask
                    (i32.or (local.get $mask) (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $pos)))))))
              (if (i32.eqz (local.get $mask))
                (then (local.set $pos (i32.add (local.get $pos) (i32.const 16))) (br $plain))))
            (local.set $pos (i32.add (local.get $pos) (i32.ctz (local.get $mask))))
            (br_if $top (i32.ge_u (local.get $pos) (local.get $end)))
            (local.set $c (i32.load8_u (local.get $pos)))
            (if (i32.eq (local.get $c) (i32.const 0x22))
              (then
                (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
                ;; Shortcuts for what most often follows (each does what the table would, when
                ;; the bytes it looks at are in this chunk): `:"` after a key, `,"` after a
                ;; value in an object, with the next key's first byte there too.
                (if (local.get $isKey)
                  (then
                    (local.set $state (i32.const {{CO}}))
                    (if (i32.and
                          (i32.lt_u (i32.add (local.get $pos) (i32.const 1)) (local.get $end))
                          (i32.eq (i32.load16_u (local.get $pos)) (i32.const 0x223a)))
                      (then
                        (local.set $pos (i32.add (local.get $pos) (i32.const 2)))
                        (local.set $state (i32.const {{ST}}))
                        (local.set $isKey (i32.const 0)))))
                  (else
                    (local.set $state (i32.const {{OK}}))
                    (if (i32.and
                          (i32.lt_u (i32.add (local.get $pos) (i32.const 2)) (local.get $end))
                          (i32.and
                            (i32.eq (i32.load16_u (local.get $pos)) (i32.const 0x222c))
                            (i32.eq
                              (i32.load8_u offset={{STACK}} (i32.sub (local.get $depth) (i32.const 1)))
                              (i32.const {{OBJ}}))))
                      (then
                        (local.set $pos (i32.add (local.get $pos) (i32.const 2)))
                        (local.set $state (i32.const {{ST}}))
                        (local.set $isKey (i32.const 1))
                        (if (i32.eq (local.get $depth) (i32.const 1))
                          (then
                            (local.set $c (i32.load8_u (local.get $pos)))
                            (if (i32.or (i32.eq (local.get $c) (i32.const 0x5f)) (i32.eq (local.get $c) (i32.const 0x5c)))
                              (then (local.set $flags (i32.or (local.get $flags) (i32.const {{RESERVED_KEY}})))))))))))
                (br $top)))
            (if (i32.eq (local.get $c) (i32.const 0x5c))
              (then
                (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
                (local.set $state (i32.const {{ES}}))
                (br $top)))
            (if (i32.ge_u (local.get $c) (i32.const 0x80))
              (then
                ;; UTF-8 is checked for the whole element afterwards (array-splitter.ts).
                (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
                (local.set $nonAscii (i32.const 1))
                (br $top)))
            ;; A raw control character: an error.
            (local.set $status (i32.const {{HAND_BACK}}))
            (br $exit)))
        (local.set $next
          (i32.load16_s offset={{TABLE}}
            (i32.shl
              (i32.add (local.get $state) (i32.load8_u offset={{CLASSES}} (i32.load8_u (local.get $pos))))
              (i32.const 1))))
        (if (i32.ge_s (local.get $next) (i32.const 0))
          (then
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $state (local.get $next))
            (if (i32.or
                  (i32.eq (local.get $state) (i32.const {{IN}}))
                  (i32.or (i32.eq (local.get $state) (i32.const {{FS}})) (i32.eq (local.get $state) (i32.const {{E3}}))))
              (then
                ;; The rest of a run of digits (ids are 16 of them), 16 bytes at a time as in
                ;; strings: up to the first byte that is not a digit, or `end`.
                (loop $digits
                  (local.set $mask
                    (i8x16.bitmask
                      (i8x16.gt_u
                        (i8x16.sub (v128.load (local.get $pos)) (i8x16.splat (i32.const 0x30)))
                        (i8x16.splat (i32.const 9)))))
                  (if (i32.lt_u (i32.sub (local.get $end) (local.get $pos)) (i32.const 16))
                    (then
                      (local.set $mask
                        (i32.or (local.get $mask) (i32.shl (i32.const 1) (i32.sub (local.get $end) (local.get $pos)))))))
                  (if (i32.eqz (local.get $mask))
                    (then (local.set $pos (i32.add (local.get $pos) (i32.const 16))) (br $digits))))
                (local.set $pos (i32.add (local.get $pos) (i32.ctz (local.get $mask))))))
            (br $top)))
        (if (i32.eq (local.get $next) (i32.const {{KEY_START}}))
          (then
            ;; A top-level key starting with `_` or an escape may be a key field of the tap.
            (if (i32.eq (local.get $depth) (i32.const 1))
              (then
                (if (i32.ge_u (i32.add (local.get $pos) (i32.const 1)) (local.get $end))
                  (then (local.set $status (i32.const {{HAND_BACK}})) (br $exit)))
                (local.set $c (i32.load8_u offset=1 (local.get $pos)))
                (if (i32.or (i32.eq (local.get $c) (i32.const 0x5f)) (i32.eq (local.get $c) (i32.const 0x5c)))
                  (then (local.set $flags (i32.or (local.get $flags) (i32.const {{RESERVED_KEY}})))))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $state (i32.const {{ST}}))
            (local.set $isKey (i32.const 1))
            (br $top)))
        (if (i32.eq (local.get $next) (i32.const {{STR_START}}))
          (then
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $state (i32.const {{ST}}))
            (local.set $isKey (i32.const 0))
            (br $top)))
        (if (i32.eq (local.get $next) (i32.const {{COMMA_NEXT}}))
          (then
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $state
              (select (i32.const {{KE}}) (i32.const {{VA}})
                (i32.eq
                  (i32.load8_u offset={{STACK}} (i32.sub (local.get $depth) (i32.const 1)))
                  (i32.const {{OBJ}}))))
            (br $top)))
        (if (i32.or (i32.eq (local.get $next) (i32.const {{OBJ_OPEN}})) (i32.eq (local.get $next) (i32.const {{ARR_OPEN}})))
          (then
            (if (i32.eq (local.get $depth) (i32.const {{STACK_CAPACITY}}))
              (then (local.set $status (i32.const {{HAND_BACK}})) (br $exit)))
            (i32.store8 offset={{STACK}} (local.get $depth)
              (select (i32.const {{OBJ}}) (i32.const {{ARR}}) (i32.eq (local.get $next) (i32.const {{OBJ_OPEN}}))))
            (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
            (local.set $state
              (select (i32.const {{OB}}) (i32.const {{AR}}) (i32.eq (local.get $next) (i32.const {{OBJ_OPEN}}))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (br $top)))
        (if (i32.or (i32.eq (local.get $next) (i32.const {{OBJ_CLOSE}})) (i32.eq (local.get $next) (i32.const {{ARR_CLOSE}})))
          (then
            (if (i32.ne
                  (i32.load8_u offset={{STACK}} (i32.sub (local.get $depth) (i32.const 1)))
                  (select (i32.const {{OBJ}}) (i32.const {{ARR}}) (i32.eq (local.get $next) (i32.const {{OBJ_CLOSE}}))))
              (then (local.set $status (i32.const {{HAND_BACK}})) (br $exit)))
            (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
            (local.set $state (i32.const {{OK}}))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (if (i32.eqz (local.get $depth))
              (then (local.set $status (i32.const {{DONE}})) (br $exit)))
            (br $top)))
        (if (i32.and
              (i32.eq (local.get $next) (i32.const {{NEWLINE}}))
              (i32.eqz (i32.load (i32.const {{REG_LINES}}))))
          (then
            ;; Between tokens of an array's element (in a row it is an error): a newline ends a
            ;; number as a space does.
            (local.set $flags (i32.or (local.get $flags) (i32.const {{NEWLINE_FLAG}})))
            (if (i32.ge_u (local.get $state) (i32.const {{MI}}))
              (then (local.set $state (i32.const {{OK}}))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (br $top)))
        ;; Not JSON here (or a line break in a row).
        (local.set $status (i32.const {{HAND_BACK}}))))
    (i32.store (i32.const {{REG_STATE}}) (local.get $state))
    (i32.store (i32.const {{REG_DEPTH}}) (local.get $depth))
    (i32.store (i32.const {{REG_IS_KEY}}) (local.get $isKey))
    (i32.store (i32.const {{REG_FLAGS}}) (local.get $flags))
    (i32.store (i32.const {{REG_NON_ASCII}}) (local.get $nonAscii))
    (i32.store (i32.const {{REG_STATUS}}) (local.get $status))
    (i32.sub (local.get $pos) (i32.const {{CHUNK}}))))
