# Text templates under prover/templates/, embedded into the prover library as C++ string
# constants in generated headers (build dir), so the templates stay readable source files.
set(_zk_tmpl_dir ${CMAKE_CURRENT_BINARY_DIR}/generated/zkinfer/prover)
set(_zk_tmpl_src ${CMAKE_CURRENT_SOURCE_DIR}/templates/groth16_verifier.sol)
set(_zk_tmpl_out ${_zk_tmpl_dir}/groth16_verifier_sol.h)
add_custom_command(
  OUTPUT ${_zk_tmpl_out}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_zk_tmpl_dir}
  COMMAND ${CMAKE_COMMAND} -DIN=${_zk_tmpl_src} -DOUT=${_zk_tmpl_out} -DNAME=kGroth16VerifierSol
          -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed_text.cmake
  DEPENDS ${_zk_tmpl_src} ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed_text.cmake
  COMMENT "Embedding prover/templates/groth16_verifier.sol"
  VERBATIM)
target_sources(zkinfer_prover PRIVATE ${_zk_tmpl_out})
target_include_directories(zkinfer_prover PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
