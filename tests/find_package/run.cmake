# Installs the project into a scratch prefix, then configures, builds and runs a consumer
# project that finds it with find_package(capgap).
file(REMOVE_RECURSE ${WORK_DIR})
foreach(step
    "-S;${SOURCE_DIR};-B;${WORK_DIR}/lib;-G;${GENERATOR};-DCAPGAP_BUILD_TESTS=OFF;-DCAPGAP_BUILD_EXAMPLES=OFF;-DCAPGAP_INSTALL=ON;-DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix"
    "--build;${WORK_DIR}/lib;--parallel;2"
    "--install;${WORK_DIR}/lib"
    "-S;${SOURCE_DIR}/tests/find_package;-B;${WORK_DIR}/consumer;-G;${GENERATOR};-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix"
    "--build;${WORK_DIR}/consumer")
  execute_process(COMMAND ${CMAKE_COMMAND} ${step} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): cmake ${step}")
  endif()
endforeach()
execute_process(COMMAND ${WORK_DIR}/consumer/consumer RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer program failed (${rc})")
endif()
